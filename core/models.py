"""The audit trail (one append-only record per state change, for every model), and the
append-only, hash-chained base it shares with the money ledger (core/chain.py)."""

from collections.abc import Mapping
from typing import Any, ClassVar, NoReturn

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .chain import GENESIS, ChainWalk, Link, link_hash, plain_json, plain_time, walk


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """Bulk update() and delete() would bypass the rows' save() and delete(): refused too."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise TypeError(f"{self.model._meta.verbose_name_plural} are append-only")

    def delete(self) -> NoReturn:
        raise TypeError(f"{self.model._meta.verbose_name_plural} are append-only")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> Any:
        if hasattr(self.model, "CHAIN"):  # a ChainedModel: each record links to the one before
            raise TypeError(f"{self.model._meta.verbose_name_plural} are chained one at a time")
        return super().bulk_create(objs, *args, **kwargs)


class AppendOnlyModel(models.Model):
    """A row that is written once and never changed or deleted through the ORM.

    The database may refuse as well (the ledger has a PostgreSQL trigger); this is the
    guard for every code path in the application, on every database.
    """

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError(f"{self._meta.verbose_name_plural} are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(f"{self._meta.verbose_name_plural} are append-only")


class ChainHead(models.Model):
    """The newest record of one hash chain. Writers lock this row (SELECT … FOR UPDATE) for
    the rest of their transaction, so two of them cannot both link to the same record."""

    name = models.CharField(_("chain"), max_length=20, primary_key=True)
    seq = models.PositiveBigIntegerField(_("newest place"), default=0)
    sha256 = models.CharField(_("newest hash"), max_length=64, default=GENESIS)

    class Meta:
        verbose_name = _("chain head")
        verbose_name_plural = _("chain heads")

    def __str__(self) -> str:
        return f"{self.name} #{self.seq} {self.sha256}"


AUDIT_CHAIN = "audit"


def _locked_head(name: str) -> ChainHead:
    """Lock the audit chain's head, then `name`'s: always in that order, so two writers
    that append to both chains cannot deadlock. Created on first use."""
    head = None
    for chain in dict.fromkeys((AUDIT_CHAIN, name)):
        head = ChainHead.objects.select_for_update().filter(name=chain).first()
        if head is None:
            ChainHead.objects.bulk_create([ChainHead(name=chain)], ignore_conflicts=True)
            head = ChainHead.objects.select_for_update().get(name=chain)
    assert head is not None  # noqa: S101 - the loop runs at least once
    return head


class ChainedModel(AppendOnlyModel):
    """An append-only record in a hash chain (core/chain.py): written in the same
    transaction as its place in the chain, under the chain head's lock.

    Records written before the chain existed have no place (`chain_seq` empty); the nightly
    check counts any written after it began as broken.
    """

    CHAIN: ClassVar[str]

    chain_seq = models.PositiveBigIntegerField(
        _("place in the hash chain"), null=True, blank=True, unique=True, editable=False
    )
    # Empty by default in the database too, so a row inserted by hand is still taken (and
    # then found by the check, as a record with no place in the chain).
    chain_prev = models.CharField(
        _("hash of the record before"),
        max_length=64,
        blank=True,
        default="",
        db_default="",
        editable=False,
    )
    chain_sha256 = models.CharField(
        _("hash"), max_length=64, blank=True, default="", db_default="", editable=False
    )

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            super().save(*args, **kwargs)  # refused by AppendOnlyModel
            return
        with transaction.atomic(using=kwargs.get("using")):
            head = _locked_head(self.CHAIN)
            self.chain_seq, self.chain_prev = head.seq + 1, head.sha256
            self.chain_sha256 = link_hash(
                self.CHAIN, self.chain_seq, self.chain_prev, self.chain_content()
            )
            super().save(*args, **kwargs)
            ChainHead.objects.filter(name=self.CHAIN).update(
                seq=self.chain_seq, sha256=self.chain_sha256
            )

    def chain_content(self) -> Mapping[str, Any]:
        """What the hash covers, as plain JSON values (core.chain's canonical form)."""
        raise NotImplementedError


class AuditRecord(ChainedModel):
    CHAIN = AUDIT_CHAIN

    # Set before the insert (not auto_now_add), because the chain's hash covers it.
    at = models.DateTimeField(_("at"), default=timezone.now, editable=False, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the system itself acted (a scheduled job)."),
    )
    action = models.CharField(_("action"), max_length=40)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=200)
    # {"field": [old, new], ...}; a creation has old = null for every field.
    changes = models.JSONField(_("changes"), default=dict, encoder=DjangoJSONEncoder)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"

    def chain_content(self) -> Mapping[str, Any]:
        content_type = ContentType.objects.get_for_id(self.content_type_id)
        return {
            "at": plain_time(self.at),
            "actor": self.actor_id,
            "action": self.action,
            "content_type": f"{content_type.app_label}.{content_type.model}",
            "object_id": self.object_id,
            "object_repr": self.object_repr,
            "changes": plain_json(self.changes),
            "reason": self.reason,
        }


def chain_walk(model: type[ChainedModel], *, chunk_size: int = 5000) -> ChainWalk:
    """Walk one chained table from its first record (core.chain.walk), with its head row."""
    head_row = ChainHead.objects.filter(name=model.CHAIN).values_list("seq", "sha256").first()
    records = model.objects.filter(chain_seq__isnull=False).order_by("chain_seq")
    first = records.values_list("pk", flat=True).first()
    unchained = (
        list(
            model.objects.filter(chain_seq__isnull=True, pk__gt=first)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if first is not None
        else []
    )
    links = (
        Link(
            pk=record.pk,
            seq=record.chain_seq,
            prev=record.chain_prev,
            sha256=record.chain_sha256,
            content=record.chain_content(),
        )
        for record in records.iterator(chunk_size=chunk_size)
    )
    return walk(
        model.CHAIN,
        links,
        head=(head_row[0], head_row[1]) if head_row else None,
        unchained_after_start=unchained,
    )
