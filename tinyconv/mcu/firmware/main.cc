// tinyconv's firmware harness: runs one int8 .tflite model under TFLite Micro on an
// emulated Cortex-M and prints what the host needs on semihosting's stdout, each line
// starting with "TINYCONV ". Built by tinyconv.mcu with:
//   model.h / model.c   the model as a C array (tinyconv.export.firmware_sources),
//   harness_config.h    TINYCONV_MODEL (the array), TINYCONV_ADD_OPS(resolver),
//                       TINYCONV_ARENA_BYTES, TINYCONV_MAX_EVENTS.
// The images come from "images.bin" and the int8 outputs go to "outputs.bin", both read
// and written through semihosting, outside the counted region.
//
// Counting: QEMU runs with -icount shift=0 (1 ns of virtual time per instruction); the
// SysTick timer counts the board's processor clock in that virtual time, so a tick is a
// fixed number of instructions. A loop of known length calibrates the ratio.
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "harness_config.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/micro/micro_profiler_interface.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace {

volatile uint32_t* const kSysTickCtrl = reinterpret_cast<volatile uint32_t*>(0xE000E010);
volatile uint32_t* const kSysTickLoad = reinterpret_cast<volatile uint32_t*>(0xE000E014);
volatile uint32_t* const kSysTickValue = reinterpret_cast<volatile uint32_t*>(0xE000E018);
constexpr uint32_t kSysTickPeriod = 1u << 24;  // the counter is 24 bits wide
volatile uint32_t g_wraps = 0;

void StartTicks() {
  *kSysTickLoad = kSysTickPeriod - 1;
  *kSysTickValue = 0;
  *kSysTickCtrl = 0x7;  // processor clock, interrupt on wrap, enabled
  while (*kSysTickValue == 0) {
  }  // the counter loads the period on its first tick; count from there
}

// Ticks since StartTicks(): wraps counted by the interrupt, the rest read off the counter.
uint64_t Ticks() {
  uint32_t before, value, after;
  do {
    before = g_wraps;
    value = *kSysTickValue;
    after = g_wraps;
  } while (before != after);
  return static_cast<uint64_t>(before) * kSysTickPeriod + (kSysTickPeriod - 1 - value);
}

// Exactly 2 * n instructions in the loop (SUBS, BNE), n >= 1.
__attribute__((noinline)) void CountedLoop(uint32_t n) {
  __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b\n" : "+r"(n) : : "cc");
}

// Ticks of each operator of one Invoke(), as TFLite Micro's interpreter reports them.
class TickProfiler : public tflite::MicroProfilerInterface {
 public:
  uint32_t BeginEvent(const char* tag) override {
    if (count_ >= TINYCONV_MAX_EVENTS) return TINYCONV_MAX_EVENTS;
    tags_[count_] = tag;
    start_[count_] = Ticks();
    return count_++;
  }
  void EndEvent(uint32_t handle) override {
    if (handle < TINYCONV_MAX_EVENTS) ticks_[handle] += Ticks() - start_[handle];
  }
  void NextInvoke() {
    events_ = count_;
    count_ = 0;
  }
  uint32_t events() const { return events_; }
  const char* tag(uint32_t i) const { return tags_[i]; }
  uint64_t ticks(uint32_t i) const { return ticks_[i]; }

 private:
  const char* tags_[TINYCONV_MAX_EVENTS] = {};
  uint64_t start_[TINYCONV_MAX_EVENTS] = {};
  uint64_t ticks_[TINYCONV_MAX_EVENTS] = {};  // summed over every Invoke()
  uint32_t count_ = 0;
  uint32_t events_ = 0;
};

constexpr uint32_t kPaint = 0xA5A5A5A5u;
constexpr uint32_t kPaintedBytes = TINYCONV_STACK_PROBE_BYTES;
constexpr uintptr_t kPaintGap = 256;  // room for PaintStack's own frame below the caller's

inline uintptr_t StackPointer() {
  uintptr_t sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  return sp;
}

// Fill kPaintedBytes of stack below `from - kPaintGap` with a pattern (volatile: the
// compiler must not drop stores to memory no object owns).
__attribute__((noinline)) void PaintStack(uintptr_t from) {
  volatile uint32_t* top = reinterpret_cast<volatile uint32_t*>((from - kPaintGap) & ~uintptr_t{3});
  for (volatile uint32_t* p = top - kPaintedBytes / 4; p < top; ++p) *p = kPaint;
}

// Bytes of stack used below `from` since PaintStack(from): up to the deepest changed word.
// 0 if the painted region was used to its bottom (the probe was too small).
uint32_t StackUsedBelow(uintptr_t from) {
  const volatile uint32_t* top =
      reinterpret_cast<const volatile uint32_t*>((from - kPaintGap) & ~uintptr_t{3});
  const volatile uint32_t* p = top - kPaintedBytes / 4;
  if (*p != kPaint) return 0;
  while (p < top && *p == kPaint) ++p;
  return static_cast<uint32_t>(from - reinterpret_cast<uintptr_t>(p));
}

alignas(16) uint8_t g_arena[TINYCONV_ARENA_BYTES];
TickProfiler g_profiler;

int Fail(const char* what) {
  printf("TINYCONV error %s\n", what);
  return 1;
}

}  // namespace

extern "C" void TinyconvSysTickHandler(void) { g_wraps = g_wraps + 1; }

int main() {
  StartTicks();
  const uint32_t calibration_loops = 1000000;
  const uint64_t calibration_start = Ticks();
  CountedLoop(calibration_loops);
  const uint64_t calibration_ticks = Ticks() - calibration_start;
  printf("TINYCONV calibration %lu %llu\n", static_cast<unsigned long>(2 * calibration_loops),
         static_cast<unsigned long long>(calibration_ticks));

  const tflite::Model* model = tflite::GetModel(TINYCONV_MODEL);
  if (model->version() != TFLITE_SCHEMA_VERSION) return Fail("schema_version");
  static tflite::MicroMutableOpResolver<TINYCONV_OP_COUNT> resolver;
  TINYCONV_ADD_OPS(resolver);
  static tflite::MicroInterpreter interpreter(model, resolver, g_arena, sizeof(g_arena), nullptr,
                                              &g_profiler);
  if (interpreter.AllocateTensors() != kTfLiteOk) return Fail("allocate_tensors");
  printf("TINYCONV arena %lu\n", static_cast<unsigned long>(interpreter.arena_used_bytes()));

  TfLiteTensor* input = interpreter.input(0);
  TfLiteTensor* output = interpreter.output(0);
  if (input->type != kTfLiteInt8 || output->type != kTfLiteInt8) return Fail("not_int8");
  FILE* images = fopen("images.bin", "rb");
  FILE* outputs = fopen("outputs.bin", "wb");
  if (images == nullptr || outputs == nullptr) return Fail("files");

  uint32_t count = 0;
  uint32_t stack_bytes = 0;
  uint64_t min_ticks = UINT64_MAX, max_ticks = 0, total_ticks = 0;
  while (fread(input->data.int8, 1, input->bytes, images) == input->bytes) {
    const uintptr_t from = StackPointer();
    if (count == 0) PaintStack(from);
    const uint64_t start = Ticks();
    const TfLiteStatus status = interpreter.Invoke();
    const uint64_t ticks = Ticks() - start;
    if (status != kTfLiteOk) return Fail("invoke");
    if (count == 0) {
      stack_bytes = StackUsedBelow(from);
      if (stack_bytes == 0) return Fail("stack_probe_too_small");
    }
    g_profiler.NextInvoke();
    total_ticks += ticks;
    if (ticks < min_ticks) min_ticks = ticks;
    if (ticks > max_ticks) max_ticks = ticks;
    fwrite(output->data.int8, 1, output->bytes, outputs);
    ++count;
  }
  fclose(outputs);
  fclose(images);
  printf("TINYCONV stack %lu %lu\n", static_cast<unsigned long>(stack_bytes),
         static_cast<unsigned long>(kPaintedBytes));
  printf("TINYCONV invokes %lu %llu %llu %llu\n", static_cast<unsigned long>(count),
         static_cast<unsigned long long>(total_ticks), static_cast<unsigned long long>(min_ticks),
         static_cast<unsigned long long>(max_ticks));
  for (uint32_t i = 0; i < g_profiler.events(); ++i) {
    printf("TINYCONV op %lu %s %llu\n", static_cast<unsigned long>(i), g_profiler.tag(i),
           static_cast<unsigned long long>(g_profiler.ticks(i)));
  }
  printf("TINYCONV done\n");
  return 0;
}
