"""The outbox: the site's mails go out from the worker (`manage.py db_worker`), never from a request.

What causes a mail (a release of grades, an invitation) writes a Mail row in its own transaction and calls
`outbox_enqueue`, which queues the task `tasks.send_mails` once that transaction commits. `mails_send` (that task, and
`manage.py send_mails`) takes the queued mails that are due, a batch at a time, and sends each batch over one
connection to the mail server:

- a batch is claimed by moving its mails' `due_at` a lease ahead (MAIL_LEASE_SECONDS) under select_for_update
  (skip_locked where the database has it; SQLite runs one writing transaction at a time), so that two workers never
  take the same mail; a task is queued for when the lease ends, so that a worker killed half-way is followed by one
  that sends the rest;
- each mail is marked sent as soon as the server took it: a batch resumed sends again at most the one in flight;
- a temporary failure (no connection, a timeout, a 4xx reply) is tried again RETRY_SECONDS later; after the last try,
  or at once for a permanent one (a 5xx reply, such as a refused address), the mail is failed, with why in staff's
  words (`mail_error`). Instructors send a failed mail again from the course's outbox page (views/outbox.py).

The mail's text is written when it is sent (`_render`), from the row's kind and context: an invitation's link to
choose a password carries a token that is made then, and is never stored.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from ..models import Mail

logger = logging.getLogger(__name__)

MAIL_BATCH = 50  # mails claimed and sent over one connection at a time
MAIL_LEASE_SECONDS = 600  # a claimed batch not sent by then (its worker died) is taken by the next worker
RETRY_SECONDS = (60, 300, 1800)  # the waits before the 2nd, 3rd and 4th try after a temporary failure

MAIL_REFUSED = "the mail server refused the address ({reply})"
MAIL_ANSWERED = "the mail server refused the mail ({reply})"
MAIL_TIMEOUT = "the mail server did not answer in time"
MAIL_UNREACHABLE = "the mail server could not be reached ({reason})"
MAIL_NOT_TAKEN = "the mail server did not take the mail"
MAIL_UNWRITTEN = "the mail could not be written ({reason})"
NOT_MAILED = "Not mailed to {who}: {why}."
QUEUED = "{count} {noun}{s} queued; {they} out within a minute."
QUEUED_SOME = "{count} {noun}{s} queued, {failed} not; {they} out within a minute."
QUEUED_NONE = "No {noun}s queued: {failed} not."


@dataclass
class MailsQueued:
    """What a feature queued: the addresses, and who gets no mail and why, in the order they came."""

    noun: str = "mail"
    nothing: str = ""  # what the summary says when nobody was to be mailed
    queued: list[str] = field(default_factory=list)  # e-mail addresses
    failed: list[tuple[str, str]] = field(default_factory=list)  # (e-mail address or user name, why not)

    def summary(self) -> str:
        """'12 mails queued; they go out within a minute.' (with ', 2 not' when some were not)"""
        count = len(self.queued)
        if self.nothing and not count and not self.failed:
            return self.nothing
        words = {"count": count, "noun": self.noun, "s": "" if count == 1 else "s"}
        words["they"] = "it goes" if count == 1 else "they go"
        if self.failed and not count:
            return QUEUED_NONE.format(noun=self.noun, failed=len(self.failed))
        if self.failed:
            return QUEUED_SOME.format(failed=len(self.failed), **words)
        return QUEUED.format(**words)

    def failures(self) -> list[str]:
        """A line per reason, naming every address it kept a mail from: 'Not mailed to a@x.dk, b@x.dk: why.'"""
        by_reason: dict[str, list[str]] = {}
        for who, why in self.failed:
            by_reason.setdefault(why, []).append(who)
        return [NOT_MAILED.format(who=", ".join(who), why=why) for why, who in by_reason.items()]


def address_of(user) -> str:
    """The e-mail address a mail to `user` goes to; "" for an account without one (it gets no mail)."""
    return getattr(user, user.get_email_field_name(), "")


def mails_queue(mails: list[Mail]) -> None:
    """Write `mails` in the caller's transaction; the worker is asked to send them once it commits."""
    if mails:
        Mail.objects.bulk_create(mails)
        outbox_enqueue()


def outbox_enqueue(*, run_after: datetime | None = None) -> None:
    """Queue the task that sends the due mails (at `run_after`, else now) once the current transaction commits, so
    that the worker finds the rows; at once outside a transaction."""

    def enqueue() -> None:
        from ..tasks import send_mails  # tasks imports the services

        (send_mails.using(run_after=run_after) if run_after else send_mails).enqueue()

    transaction.on_commit(enqueue)


@dataclass
class SendRun:
    """What one `mails_send` did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.retrying} to be tried again, {self.failed} failed"


def mails_send(*, now: datetime | None = None) -> SendRun:
    """Send every queued mail that is due (at `now`, else the time of each batch's claim), a batch per connection;
    then, if mails are still queued (a retry's wait, another worker's claim), queue a task for the first of them.

    Each batch also queues a task for the end of its lease, so that the mails of a worker killed half-way go out
    then; when all went well, that task finds nothing to do."""
    run = SendRun()
    claimed = False
    while batch := _claim(now or timezone.now()):
        claimed = True
        outbox_enqueue(run_after=batch[0].due_at)  # the lease's end: if this worker dies, another one comes then
        _send_batch(batch, run, now)
    if claimed and (first := _queued().order_by("due_at").values_list("due_at", flat=True).first()):
        outbox_enqueue(run_after=first)
    return run


def _queued():
    return Mail.objects.filter(status=Mail.Status.QUEUED)


def _claim(at: datetime) -> list[Mail]:
    """Up to MAIL_BATCH due mails, leased to this worker (their `due_at` moved past the lease), oldest first."""
    with transaction.atomic():
        due = _queued().filter(due_at__lte=at).select_for_update(skip_locked=True).order_by("due_at", "pk")
        pks = list(due.values_list("pk", flat=True)[:MAIL_BATCH])
        Mail.objects.filter(pk__in=pks).update(due_at=at + timedelta(seconds=MAIL_LEASE_SECONDS))
    return list(Mail.objects.filter(pk__in=pks).select_related("user", "course").order_by("pk"))


def _send_batch(batch: list[Mail], run: SendRun, now: datetime | None) -> None:
    """Send the batch over one connection, each mail marked as soon as the server answered for it. A failure that
    leaves no reply (the connection is gone or hangs) stops the batch: the mails after it go back to the queue as
    they were, for the next connection."""
    connection = get_connection()
    try:
        connection.open()
    except OSError as error:  # smtplib.SMTPException is an OSError; not the mails' fault, so tried again
        for mail in batch:
            _failed(mail, mail_error(error), False, run, now)
        return
    try:
        for position, mail in enumerate(batch):
            try:
                message = _render(mail)
            except Exception as error:  # a missing template, say: said on this mail, the others go out
                logger.exception("mail %s could not be written", mail.pk)
                _failed(mail, MAIL_UNWRITTEN.format(reason=type(error).__name__), True, run, now)
                continue
            try:
                taken = connection.send_messages([message])
            except OSError as error:
                _failed(mail, mail_error(error), _permanent(error), run, now)
                if _reply_code(error) is None:
                    rest = [later.pk for later in batch[position + 1 :]]
                    _queued().filter(pk__in=rest).update(due_at=now or timezone.now())
                    return
            else:
                if taken:
                    Mail.objects.filter(pk=mail.pk).update(status=Mail.Status.SENT, sent_at=timezone.now(), error="")
                    run.sent += 1
                else:
                    _failed(mail, MAIL_NOT_TAKEN, False, run, now)
    finally:
        with contextlib.suppress(OSError):
            connection.close()


def _failed(mail: Mail, why: str, permanent: bool, run: SendRun, now: datetime | None) -> None:
    """Record a failed try: wait and try again (RETRY_SECONDS), or, when permanent or tried enough, fail the mail."""
    tries = mail.tries + 1
    if permanent or tries > len(RETRY_SECONDS):
        _queued().filter(pk=mail.pk).update(status=Mail.Status.FAILED, tries=tries, error=why[:300])
        run.failed += 1
    else:
        due = (now or timezone.now()) + timedelta(seconds=RETRY_SECONDS[tries - 1])
        _queued().filter(pk=mail.pk).update(tries=tries, error=why[:300], due_at=due)
        run.retrying += 1


def _render(mail: Mail) -> EmailMessage:
    """The mail's text, written now from its kind and context."""
    from .feedback import regrade_mail_render, release_mail_render  # they queue mails here
    from .invitations import invitation_mail_render

    render = {
        Mail.Kind.INVITATION: invitation_mail_render,
        Mail.Kind.RELEASE: release_mail_render,
        Mail.Kind.REGRADE: regrade_mail_render,
    }[mail.kind]
    return render(mail)


def _reply_code(error: OSError) -> int | None:
    """The mail server's reply code in `error`; None when it gave none (no connection, a timeout, a hang-up)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        return next(iter(error.recipients.values()))[0]
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code
    return None


def _permanent(error: OSError) -> bool:
    """A 5xx reply (a refused address, a refused mail): trying again gets the same answer."""
    code = _reply_code(error)
    return code is not None and code >= 500


def mail_error(error: OSError) -> str:
    """Why a mail was not sent, in words for staff.

    >>> mail_error(smtplib.SMTPRecipientsRefused({"a@x.dk": (550, b"no such user")}))
    'the mail server refused the address (550 no such user)'
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        code, message = next(iter(error.recipients.values()))
        return MAIL_REFUSED.format(reply=_reply(code, message))
    if isinstance(error, smtplib.SMTPResponseException):
        return MAIL_ANSWERED.format(reply=_reply(error.smtp_code, error.smtp_error))
    if isinstance(error, TimeoutError):
        return MAIL_TIMEOUT
    return MAIL_UNREACHABLE.format(reason=error.strerror or str(error) or type(error).__name__)


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode(errors="replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"[:200]


def mails_retry(*, mails: QuerySet[Mail]) -> int:
    """Queue the failed ones of `mails` again, their tries from 0; how many (a mail sent or queued meanwhile is left
    as it is)."""
    with transaction.atomic():
        again = mails.filter(status=Mail.Status.FAILED).update(
            status=Mail.Status.QUEUED, tries=0, error="", due_at=timezone.now()
        )
        if again:
            outbox_enqueue()
    return again
