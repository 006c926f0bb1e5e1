from playwright.sync_api import expect


def test_staff_logs_in_to_the_admin_in_a_real_browser(page, live_server, login, django_user_model):
    django_user_model.objects.create_user("staffer", password="pw-staffer", is_staff=True)

    login(page, live_server, "staffer", "pw-staffer", path="/admin/login/")

    assert page.url == live_server.url + "/admin/"
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
