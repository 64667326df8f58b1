r"""Knowledge distillation as a loss term on the training engine (Hinton et al., 2015).

A :class:`DistillationSpec` names a teacher model file, a weight :math:`w` and a temperature
:math:`T`. :func:`distillation_callback` loads the teacher, checks that it fits the student
(same dataset, classes, input and normalisation: a teacher that saw other images, or
normalised them otherwise, would teach the wrong function) and returns a :class:`Distiller`,
a :class:`~tinyconv.train.Callback` whose ``loss_term`` adds

.. math::

    w \, T^2 \, \mathrm{KL}\big(\mathrm{softmax}(z_t / T) \,\|\, \mathrm{softmax}(z_s / T)\big)

to every training step's loss, where :math:`z_t` are the teacher's logits on the step's own
(augmented, normalised) batch, computed in eval mode without gradients, and :math:`z_s` the
student's. The :math:`T^2` keeps the term's gradients on the scale of the cross-entropy's as
:math:`T` changes. There is no second training loop: the engine runs the step, the callback
adds its term, and the teacher's forward pass shows in the epoch's images per second.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from tinyconv.compress.errors import TeacherError
from tinyconv.distillation_spec import DistillationSpec
from tinyconv.model import TinyNet
from tinyconv.model_file import load
from tinyconv.normalization import Normalization
from tinyconv.train.callbacks import Batch, Callback

__all__ = ["Distiller", "distillation_callback", "distillation_loss"]


def distillation_loss(student: Tensor, teacher: Tensor, temperature: float) -> Tensor:
    r"""Return :math:`T^2 \, \mathrm{KL}(\mathrm{softmax}(t/T) \| \mathrm{softmax}(s/T))`.

    The KL divergence is summed over classes and averaged over the batch.

    Args:
        student: Student logits, shape ``(B, K)``.
        teacher: Teacher logits, shape ``(B, K)`` (no gradient flows into them).
        temperature: Softening temperature ``T > 0``.

    Returns:
        A scalar tensor, ``0`` where the two soft distributions agree.

    Example:
        >>> logits = torch.tensor([[2.0, 0.0, -1.0]])
        >>> float(distillation_loss(logits, logits, 4.0))
        0.0
        >>> float(distillation_loss(logits, torch.zeros(1, 3), 1.0)) > 0
        True
    """
    log_student = F.log_softmax(student / temperature, dim=1)
    log_teacher = F.log_softmax(teacher.detach() / temperature, dim=1)
    divergence = F.kl_div(log_student, log_teacher, reduction="batchmean", log_target=True)
    return divergence * temperature**2


class Distiller(Callback):
    """A training-engine callback adding the teacher's softened KL divergence to the loss.

    The teacher runs in eval mode, without gradients, on the same batch the student sees;
    it is kept out of the student's parameters, optimizer and checkpoint. Build one with
    :func:`distillation_callback`, which checks the teacher first.

    Args:
        teacher: The teacher model (its mode and weights are never changed by training).
        weight: Factor of the term, ``>= 0``.
        temperature: Softening temperature, ``> 0``.

    Example:
        >>> from torch import nn
        >>> from tinyconv.train import TrainConfig, fit
        >>> teacher = nn.Linear(4, 2)
        >>> x, y = torch.randn(8, 4), torch.arange(8) % 2
        >>> config = TrainConfig(epochs=1, batch_size=8, device="cpu", progress=False)
        >>> student = nn.Linear(4, 2)
        >>> history = fit(student, [(x, y)], config, callbacks=[Distiller(teacher, 0.5, 2.0)])
        >>> len(history), teacher.training
        (1, False)
    """

    def __init__(self, teacher: torch.nn.Module, weight: float, temperature: float) -> None:
        DistillationSpec(teacher="-", weight=weight, temperature=temperature)  # the checks
        self.teacher = teacher.eval()
        for parameter in self.teacher.parameters():
            parameter.requires_grad_(False)
        self.weight = float(weight)
        self.temperature = float(temperature)

    def teacher_logits(self, x: Tensor) -> Tensor:
        """Return the teacher's logits for ``x``, in eval mode and without gradients.

        Args:
            x: A batch as the student sees it.

        Returns:
            The teacher's logits, on ``x``'s device.
        """
        first = next(self.teacher.parameters(), None)
        if first is not None and first.device != x.device:
            self.teacher.to(x.device)
        self.teacher.eval()
        with torch.no_grad():
            return self.teacher(x)

    def loss_term(self, batch: Batch) -> Tensor:
        """Return ``weight * T^2 * KL(teacher || student)`` on the step's batch.

        Args:
            batch: The step's inputs and the student's logits.

        Returns:
            The scalar term (computed even at weight 0, which then adds exactly 0).
        """
        teacher = self.teacher_logits(batch.x)
        return self.weight * distillation_loss(batch.logits, teacher, self.temperature)


def _check_fit(teacher: TinyNet, student: TinyNet, source: str) -> None:
    """Raise :class:`TeacherError` unless the teacher could have taught this student."""

    def refuse(what: str, theirs: object, ours: object, fix: str) -> TeacherError:
        return TeacherError(
            f"teacher {source} was trained with {what} {theirs!r} but the student has "
            f"{ours!r}; {fix}"
        )

    same_data = "use a teacher trained on the student's dataset with the same pipeline"
    if teacher.dataset is None or student.dataset is None:
        who = "teacher" if teacher.dataset is None else "student"
        raise TeacherError(
            f"the {who} does not record its dataset, so the teacher {source} cannot be "
            "checked against the student; train both with a recipe (or save the model with "
            "tinyconv.save(..., dataset=NAME))"
        )
    if teacher.dataset != student.dataset:
        raise refuse("dataset", teacher.dataset, student.dataset, same_data)
    if teacher.num_classes != student.num_classes:
        raise refuse("class count", teacher.num_classes, student.num_classes, same_data)
    names = (teacher.class_names, student.class_names)
    if None not in names and tuple(names[0]) != tuple(names[1]):  # type: ignore[arg-type]
        raise refuse("classes", teacher.class_names, student.class_names, same_data)
    shape, wanted = teacher.input_shape, student.input_shape
    if shape != wanted:
        raise refuse("input shape", shape, wanted, same_data)
    if not _same_normalization(teacher.normalization, student.normalization):
        raise refuse(
            "normalisation",
            teacher.normalization and teacher.normalization.to_dict(),
            student.normalization and student.normalization.to_dict(),
            "teacher and student must see identically normalised images",
        )


def _same_normalization(first: Normalization | None, second: Normalization | None) -> bool:
    if first is None or second is None:
        return first is second
    for ours, theirs in ((first.mean, second.mean), (first.std, second.std)):
        if len(ours) != len(theirs):
            return False
        if not all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(ours, theirs, strict=True)):
            return False
    return True


def distillation_callback(spec: DistillationSpec, student: TinyNet) -> Distiller:
    """Load ``spec``'s teacher, check it fits ``student``, and return the callback.

    Pass the result to :func:`tinyconv.train.fit` (``callbacks=[...]``) when training the
    student.

    Args:
        spec: The teacher file, weight and temperature.
        student: The model to be trained (its dataset, classes, input and normalisation
            are compared with the teacher's).

    Returns:
        The :class:`Distiller`.

    Raises:
        FileNotFoundError: If the teacher file does not exist.
        ModelFileError: If it is not a readable model file.
        TeacherError: If the teacher's dataset, class count or names, input shape or
            normalisation differ from the student's, or either does not record its dataset.
    """
    if not isinstance(spec, DistillationSpec):
        raise TypeError(f"spec must be a DistillationSpec, got {type(spec).__name__}")
    if not isinstance(student, TinyNet):
        raise TeacherError(
            f"the student must be a TinyNet (made by a recipe or tinyconv.build), got "
            f"{type(student).__name__}"
        )
    path = Path(os.fspath(spec.teacher))
    teacher = load(path)
    _check_fit(teacher, student, repr(str(path)))
    return Distiller(teacher, spec.weight, spec.temperature)
