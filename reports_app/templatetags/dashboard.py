"""What the dashboard shows 150 x 31 times, made in Python: through template tags it took 250 ms a page."""

from html import escape

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe

from reports_app.exporting import local_time
from reports_app.forms.staff import DASHBOARD_SORTS
from reports_app.selectors.contributions import HISTORY_CUT
from reports_app.selectors.overview import FLAG_SEEN_LATE, FLAG_STOPS, GroupOverview, Verdict

register = template.Library()
CELL = {v: f'<td class="verdict verdict-{v.value}" title="{{}}">{v.letter}</td>' for v in Verdict}
SORT_LABELS = dict(DASHBOARD_SORTS)
SORT_ARROWS = {"ascending": "▲", "descending": "▼", None: "↕"}  # ↕: sortable, not sorted by it
INVITED = "invited, has not joined yet"
LATE = "Committed after the deadline, {deadline}"
SEEN_LATE = (
    "The commit graded is dated before the group's deadline, but this site first saw it after: its date may have "
    "been set back"
)


@register.filter
def verdict_cells(row: GroupOverview) -> SafeString:
    """`<td class="verdict verdict-words" title="(the checker's message)">W</td>` per question of the row."""
    return mark_safe("".join(CELL[v.verdict].format(escape(v.detail)) for v in row.verdicts))


@register.filter
def group_cell(row: GroupOverview, with_admin_link: bool) -> SafeString:
    """The row's header: the group, linked to its report page, and to its admin page for staff who may open it."""
    group = row.group
    name = f"{group.number} · {escape(group.name)}" if group.name else f"{group.number}"
    cell = f'<th scope="row"><a href="{reverse("report", args=[group.pk])}">{name}</a>'
    if with_admin_link:
        url = reverse("admin:reports_app_group_change", args=[group.pk])
        cell += (
            f' <a class="admin-link small fw-normal" href="{url}" title="Group {group.number} in the admin">admin</a>'
        )
    return mark_safe(cell + "</th>")


@register.filter
def count_cells(row: GroupOverview) -> SafeString:
    """The pass count (the course checker's) and the answered count, each out of the report's questions."""
    return mark_safe(
        f'<td class="passed text-end">{row.passed}/{row.total}</td>'
        f'<td class="answered text-end">{row.answered}/{row.total}</td>'
    )


@register.filter
def scrape_cells(row: GroupOverview) -> SafeString:
    """The last scrape's status (its message on hover), its commit with the local time and a late badge, and the
    row's flags."""
    scrape = row.scrape
    if scrape is None:
        status = '<span class="text-body-secondary">not scraped</span>'
    else:
        title = f' title="{escape(scrape.message)}"' if scrape.message else ""
        status = f"<span{title}>{escape(scrape.get_status_display())}</span>"
    commit = ""
    if scrape is not None and row.commit_at:
        sha = scrape.commit_sha
        commit = f'<code title="{escape(sha)}">{escape(sha[:7])}</code> {local_time(row.commit_at)}'  # as the CSV
        if row.late:
            deadline = escape(date_format(timezone.localtime(row.group.deadline), "DATETIME_FORMAT"))
            commit += f' <span class="badge text-bg-danger late" title="{LATE.format(deadline=deadline)}">late</span>'
    titles = {FLAG_STOPS: f' title="{escape(row.stops or "")}"', FLAG_SEEN_LATE: f' title="{escape(SEEN_LATE)}"'}
    flags = "".join(
        f'<span class="badge text-bg-warning me-1"{titles.get(flag, "")}>{escape(flag)}</span>' for flag in row.flags
    )
    return mark_safe(f'<td class="status">{status}</td><td class="commit">{commit}</td><td class="flags">{flags}</td>')


@register.filter
def members_cell(row: GroupOverview) -> SafeString:
    """The members' cell: their short labels (and how many are invited, not joined yet), everyone in full on hover
    (title) and when opened (a <details>, which the keyboard reaches)."""
    people = [m.whole for m in row.members] + [f"{m.whole} ({INVITED})" for m in row.invited]
    if not people:
        return mark_safe('<td class="members text-body-secondary">nobody</td>')
    labels = escape(", ".join(m.label for m in row.members))
    invited = f'<span class="invited">+{len(row.invited)} invited</span>' if row.invited else ""
    items = "".join(f"<li>{escape(person)}</li>" for person in people)
    return mark_safe(
        f'<td class="members"><details><summary title="{escape(chr(10).join(people))}">'
        f'<span class="labels">{labels}</span>{invited}</summary><ul>{items}</ul></details></td>'
    )


NOT_COUNTED = "The last scrape counted no commits (it failed, or it was made before commits were counted)"
ZERO_COMMITS = "0 commits"
MEMBER_COMMITS = "{who}: {commits} commits on {days} days, the last on {last}"
NOT_A_MEMBERS = "not a member's: {who}: {commits} commits"
OTHER_IDENTITIES = "{count} other identities"


def _identity(identity: dict) -> str:
    """An unmatched git identity as a line: 'not a member's: Eve <eve@laptop>: 3 commits'."""
    who = f"{identity['name']} <{identity['email']}>"
    if identity.get("others"):
        who = OTHER_IDENTITIES.format(count=identity["others"])
    return NOT_A_MEMBERS.format(who=who, commits=identity["commits"])


@register.filter
def commits_cell(row: GroupOverview) -> SafeString:
    """Each member's commits up to the commit last scraped (a red "0 commits" for none; "none among the newest
    20,000", not red, when the history read was cut), with their active days and the identities no member was
    matched to, in full on hover and when opened."""
    contributions = row.contributions
    if contributions is None:
        return mark_safe(f'<td class="commits text-body-secondary" title="{escape(NOT_COUNTED)}">-</td>')
    labels, lines = [], []
    for member in contributions.members:
        label = escape(member.person.label)
        if member.commits:
            labels.append(f"{label} {member.commits}")
            lines.append(
                MEMBER_COMMITS.format(
                    who=member.person.whole, commits=member.commits, days=member.days, last=member.last[:10]
                )
            )
        elif contributions.cut:
            none = contributions.none_among_newest
            labels.append(f'{label} <span class="text-body-secondary none-among-newest">{escape(none)}</span>')
            lines.append(f"{member.person.whole}: {none}")
        else:
            labels.append(f'{label} <span class="text-danger fw-semibold zero-commits">{ZERO_COMMITS}</span>')
            lines.append(f"{member.person.whole}: {ZERO_COMMITS}")
    lines += [_identity(identity) for identity in contributions.unmatched]
    if contributions.cut:
        lines.append(HISTORY_CUT.format(count=contributions.counted))
    unmatched = len(contributions.unmatched)
    more = f' <span class="unmatched text-body-secondary">+{unmatched} unmatched</span>' if unmatched else ""
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return mark_safe(
        f'<td class="commits"><details><summary title="{escape(chr(10).join(lines))}">{", ".join(labels)}{more}'
        f"</summary><ul>{items}</ul></details></td>"
    )


@register.simple_tag(takes_context=True)
def sort_header(context: template.Context, key: str, label: str, first: str = "") -> SafeString:
    """A sortable column's <th>: a link sorting by `key` (`first="-"`: descending at the first click), and the other
    way round once sorted by it; aria-sort and an arrow say how the table is sorted now."""
    sort = context["sort"]
    order = {key: "ascending", f"-{key}": "descending"}.get(sort)
    target = f"-{key}" if sort == key or (order is None and first == "-") else key
    query = context["request"].GET.copy()
    query["sort"] = target
    aria = f' aria-sort="{order}"' if order else ""
    return mark_safe(
        f'<th scope="col" class="sortable"{aria}><a href="?{escape(query.urlencode())}" '
        f'title="Sort by {escape(SORT_LABELS[target])}">{escape(label)}'
        f'<span class="sort-arrow" aria-hidden="true">{SORT_ARROWS[order]}</span></a></th>'
    )
