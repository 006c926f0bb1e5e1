// Talking to the server from a page's script: JSON requests with the CSRF token, a fresh token when it went stale,
// and a login dialog (templates/reports_app/_login_dialog.html) when the session ended, so that nothing typed leaves
// the page. Used by report.js and grade.js, as window.siteSession.
(function () {
  "use strict";

  let token = null;  // set once the server gave a newer token than the page's (after a login, say)

  function currentToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return token || (input ? input.value : "");
  }

  const UNREACHABLE = "The server could not be reached.";

  async function request(url, options) {
    const headers = { Accept: "application/json", "X-CSRFToken": currentToken() };
    try {
      const response = await fetch(url, { credentials: "same-origin", ...options, headers });
      const json = (response.headers.get("Content-Type") || "").startsWith("application/json");
      const data = json ? await response.json() : { error: `The server answered ${response.status}.` };
      return { status: response.status, data };
    } catch (error) {
      return { status: 0, data: { error: UNREACHABLE } };
    }
  }

  async function refreshSession(sessionUrl) {
    const answer = await request(sessionUrl, { method: "GET" });
    if (answer.status === 200) token = answer.data.csrf;
    return answer.status === 200 ? answer.data : null;
  }

  let loginPending = null;

  // The page's login dialog; resolves true once logged in, false when the person chose not to.
  function logIn() {
    const dialog = document.getElementById("login-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return Promise.resolve(false);
    if (loginPending) return loginPending;
    const form = dialog.querySelector("form");
    const error = dialog.querySelector(".login-dialog-error");
    loginPending = new Promise((resolve) => {
      function finish(result) {
        form.removeEventListener("submit", onSubmit);
        dialog.removeEventListener("cancel", onCancel);
        if (dialog.open) dialog.close();
        loginPending = null;
        resolve(result);
      }
      function onCancel() { finish(false); }
      async function onSubmit(event) {
        if (!event.submitter || event.submitter.value !== "login") { event.preventDefault(); finish(false); return; }
        event.preventDefault();
        error.textContent = "";
        await refreshSession(form.dataset.sessionUrl);  // the login form needs a token valid now
        const body = new FormData(form);
        const answer = await request(form.dataset.loginUrl, { method: "POST", body });
        if (answer.status === 200) {
          token = answer.data.csrf;
          form.querySelector("input[type=password]").value = "";
          finish(true);
        } else {
          error.textContent = answer.data.error || UNREACHABLE;
        }
      }
      form.addEventListener("submit", onSubmit);
      dialog.addEventListener("cancel", onCancel);
      error.textContent = "";
      dialog.showModal();
      const password = dialog.querySelector("input[type=password]");
      (dialog.querySelector("input[name=username]").value ? password : dialog.querySelector("input[name=username]")).focus();
    });
    return loginPending;
  }

  // POST with recovery: a stale CSRF token is renewed and the request sent again; a lost session asks to log in
  // (when `interactive`) and sends again. The caller's text never leaves the page.
  async function send(url, makeBody, sessionUrl, interactive) {
    let answer = await request(url, { method: "POST", body: makeBody() });
    if (answer.status === 403 && answer.data.csrf) {
      const session = await refreshSession(sessionUrl);
      if (session && session.authenticated) answer = await request(url, { method: "POST", body: makeBody() });
      else if (session) answer = { status: 401, data: { error: answer.data.error } };
    }
    if (answer.status === 401 && interactive && (await logIn())) {
      answer = await request(url, { method: "POST", body: makeBody() });
    }
    return answer;
  }

  window.siteSession = { currentToken, request, refreshSession, logIn, send, UNREACHABLE };
})();
