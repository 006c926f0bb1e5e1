from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports_app.verifying import REBUILT, verify_export

SUMMARY = "{total} READMEs: {ok} ok, {rebuilt} rebuilt on the site, {bad} failed"
FAILED = "{bad} of {total} READMEs do not match or could not be checked"


class Command(BaseCommand):
    help = (
        "Check that each group's README.md in an export hashes to the git blob id its manifest.json records, and with "
        "--repos that the blob is reports/README.md of the group's repo at the recorded commit. One line per group; "
        "fails on any mismatch."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the export's zip")
        parser.add_argument(
            "--repos", action="store_true", help="also look each committed README up in its group's repo"
        )

    def handle(self, *args, file, repos, **options):
        try:
            checks = verify_export(Path(file), repos=repos)
        except ValueError as error:
            raise CommandError(str(error)) from None
        for check in checks:
            self.stdout.write(str(check))
        bad = sum(not check.ok for check in checks)
        rebuilt = sum(check.ok and check.message == REBUILT for check in checks)
        counts = {"total": len(checks), "ok": len(checks) - bad - rebuilt, "rebuilt": rebuilt, "bad": bad}
        self.stdout.write(SUMMARY.format(**counts))
        if bad:
            raise CommandError(FAILED.format(**counts))
