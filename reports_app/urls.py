from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("groups/<int:group_id>/", views.report, name="report"),
    path("groups/<int:group_id>/questions/<int:number>/", views.edit_answer, name="edit-answer"),
    path("groups/<int:group_id>/questions/<int:number>/preview/", views.preview_answer, name="preview-answer"),
    path("groups/<int:group_id>/questions/<int:number>/history/", views.answer_history, name="answer-history"),
    path(
        "groups/<int:group_id>/questions/<int:number>/restore/<int:revision_id>/",
        views.restore_answer,
        name="restore-answer",
    ),
    path("groups/<int:group_id>/checklist/", views.tick_checklist, name="tick-checklist"),
    path("groups/<int:group_id>/figures/", views.figures, name="figures"),
    path("groups/<int:group_id>/figures/<str:name>", views.figure, name="figure"),
    path("groups/<int:group_id>/figures/<str:name>/delete/", views.delete_figure, name="delete-figure"),
    path("groups/<int:group_id>/download/reports.zip", views.download_zip, name="download-zip"),
    path("groups/<int:group_id>/download/report.html", views.download_html, name="download-html"),
    path("groups/<int:group_id>/download/grading.html", views.download_grading, name="download-grading"),
    path("courses/<int:course_id>/dashboard/", views.dashboard, name="dashboard"),
    path("courses/<int:course_id>/dashboard.csv", views.dashboard_csv, name="dashboard-csv"),
    path("courses/<int:course_id>/jobs/", views.start_job, name="start-job"),
    path("jobs/<int:job_id>/", views.job, name="job"),
    path("jobs/<int:job_id>/rerun/", views.rerun_job, name="rerun-job"),
    path("jobs/<int:job_id>/download/", views.download_job, name="download-job"),
    path("join/", views.join, name="join"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
]
