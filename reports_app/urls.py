from django.urls import path

from .views import accounts, feedback, figures, grades_out, grading, grading_overview, outbox, staff, students, system

urlpatterns = [
    path("", system.home, name="home"),
    path("healthz", system.healthz, name="healthz"),
    path("session/", system.session, name="session"),
    path("groups/<int:group_id>/", students.report, name="report"),
    path("groups/<int:group_id>/questions/<int:number>/", students.edit_answer, name="edit-answer"),
    path("groups/<int:group_id>/questions/<int:number>/draft/", students.answer_draft, name="answer-draft"),
    path("groups/<int:group_id>/questions/<int:number>/history/", students.answer_history, name="answer-history"),
    path(
        "groups/<int:group_id>/questions/<int:number>/restore/<int:revision_id>/",
        students.restore_answer,
        name="restore-answer",
    ),
    path("groups/<int:group_id>/feedback/", feedback.feedback, name="feedback"),
    path("groups/<int:group_id>/feedback/<int:number>/regrade/", feedback.request_regrade, name="request-regrade"),
    path("groups/<int:group_id>/checklist/", students.tick_checklist, name="tick-checklist"),
    path("groups/<int:group_id>/figures/", figures.figures, name="figures"),
    path("groups/<int:group_id>/figures/<str:name>", figures.figure, name="figure"),
    path(
        "groups/<int:group_id>/figures/<str:name>/versions/<int:number>",
        figures.figure_version,
        name="figure-version",
    ),
    path("groups/<int:group_id>/figures/<str:name>/delete/", figures.delete_figure, name="delete-figure"),
    path("groups/<int:group_id>/figures/<str:name>/restore/", figures.restore_figure, name="restore-figure"),
    path("groups/<int:group_id>/download/reports.zip", students.download_zip, name="download-zip"),
    path("groups/<int:group_id>/download/report.html", students.download_html, name="download-html"),
    path("groups/<int:group_id>/download/grading.html", students.download_grading, name="download-grading"),
    path("courses/<int:course_id>/dashboard/", staff.dashboard, name="dashboard"),
    path("courses/<int:course_id>/dashboard.csv", staff.dashboard_csv, name="dashboard-csv"),
    path("courses/<int:course_id>/jobs/", staff.start_job, name="start-job"),
    path("courses/<int:course_id>/jobs/recent/", staff.course_jobs, name="course-jobs"),
    path("courses/<int:course_id>/grading/", grading_overview.grading_overview, name="grading"),
    path("courses/<int:course_id>/grading/reveal/", grading.reveal_groups, name="reveal-groups"),
    path("courses/<int:course_id>/grading/release/", feedback.release_grades, name="release-grades"),
    path("courses/<int:course_id>/grading/export/<str:kind>", grades_out.export_grades, name="export-grades"),
    path("courses/<int:course_id>/grading/regrades/<int:regrade_id>/", feedback.answer_regrade, name="answer-regrade"),
    path("courses/<int:course_id>/grading/rubric/<int:number>/", grading.rubric_edit, name="rubric-edit"),
    path("courses/<int:course_id>/grading/<str:code>/<int:number>/", grading.grade, name="grade"),
    path(
        "courses/<int:course_id>/grading/<str:code>/figures/<str:name>", grading.grading_figure, name="grading-figure"
    ),
    path("courses/<int:course_id>/mails/", outbox.outbox, name="outbox"),
    path("courses/<int:course_id>/mails/retry/", outbox.retry_mails, name="retry-mails"),
    path("jobs/<int:job_id>/", staff.job, name="job"),
    path("jobs/<int:job_id>/rerun/", staff.rerun_job, name="rerun-job"),
    path("jobs/<int:job_id>/download/", staff.download_job, name="download-job"),
    path("join/", accounts.join, name="join"),
    path("invitations/<str:token>/", accounts.invitation, name="invitation"),
]
