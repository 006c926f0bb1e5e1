"""Stub views, replaced shortly."""
from django.http import HttpResponse


def home(request, **kwargs):
    return HttpResponse('home')


def report(request, **kwargs):
    return HttpResponse('report')


def edit_answer(request, **kwargs):
    return HttpResponse('edit_answer')


def preview_answer(request, **kwargs):
    return HttpResponse('preview_answer')


def answer_history(request, **kwargs):
    return HttpResponse('answer_history')


def restore_answer(request, **kwargs):
    return HttpResponse('restore_answer')


def tick_checklist(request, **kwargs):
    return HttpResponse('tick_checklist')


def figures(request, **kwargs):
    return HttpResponse('figures')


def figure(request, **kwargs):
    return HttpResponse('figure')


def delete_figure(request, **kwargs):
    return HttpResponse('delete_figure')


def download_zip(request, **kwargs):
    return HttpResponse('download_zip')


def download_html(request, **kwargs):
    return HttpResponse('download_html')


def download_grading(request, **kwargs):
    return HttpResponse('download_grading')

