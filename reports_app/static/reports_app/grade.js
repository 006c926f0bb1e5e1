// The grading page: grades save as you go (a rubric click at once, the adjustment and comment after a pause), with
// the grade's version so that two graders never overwrite each other silently (a conflict shows both), and the
// keyboard: 1-9 rubric items, n/p next/previous submission, j/k next/previous question, u next ungraded, c comment,
// a adjustment, Esc leaves a field, ? help, Ctrl+S saves now. Without this file the Save button posts the form.
(function () {
  "use strict";

  const form = document.getElementById("grade-form");
  const help = document.getElementById("keys-help");
  const helpButton = document.getElementById("keys-help-button");
  const { send } = window.siteSession;
  const TYPE_PAUSE_MS = 700;
  const RETRY_MS = 5000;

  function toggleHelp() {
    help.hidden = !help.hidden;
    helpButton.setAttribute("aria-expanded", String(!help.hidden));
  }
  helpButton.addEventListener("click", toggleHelp);

  // ---- saving ----

  let timer = null;
  let inFlight = null; // the save being sent
  let sentSnapshot = null; // what the last save sent, to tell whether more was typed meanwhile
  let unsaved = false;
  const status = form && document.getElementById("save-status");

  function snapshot() {
    const data = new FormData(form);
    return JSON.stringify([data.getAll("items").sort(), data.get("adjustment"), data.get("comment")]);
  }

  function say(text, kind) {
    status.textContent = text;
    status.className = "small" + (kind ? ` text-${kind}` : "");
  }

  function schedule(delay) {
    unsaved = true;
    say("Unsaved changes…", "body-secondary");
    window.clearTimeout(timer);
    timer = window.setTimeout(save, delay);
  }

  function applyGrade(grade) {
    form.querySelector("input[name=version]").value = grade.version;
    for (const box of form.querySelectorAll("input[name=items]")) box.checked = grade.items.includes(Number(box.value));
    form.querySelector("input[name=adjustment]").value = grade.adjustment;
    form.querySelector("textarea[name=comment]").value = grade.comment;
  }

  function mine() {
    const data = new FormData(form);
    return { items: data.getAll("items").map(Number), adjustment: data.get("adjustment"), comment: data.get("comment") };
  }

  let mineKept = null; // the grader's own version while a conflict is shown

  function showConflict(message, theirs) {
    mineKept = mine();
    const panel = document.getElementById("grade-conflict");
    const labels = mineKept.items.map((id) => {
      const label = form.querySelector(`label[for=item-${id}]`);
      return label ? label.textContent.trim() : String(id);
    });
    panel.querySelector(".conflict-message").textContent = message;
    panel.querySelector(".conflict-mine").textContent =
      `items: ${labels.join("; ") || "none"}; adjustment ${mineKept.adjustment}; comment: “${mineKept.comment}”`;
    applyGrade(theirs);
    panel.hidden = false;
    say("Not saved: see below.", "danger");
    panel.querySelector("#conflict-mine").focus();
  }

  async function save() {
    window.clearTimeout(timer);
    timer = null;
    if (inFlight) {
      await inFlight;
      if (!unsaved) return;
    }
    if (!document.getElementById("grade-conflict").hidden) return; // the grader decides first
    sentSnapshot = snapshot();
    say("Saving…", "body-secondary");
    inFlight = send(form.dataset.gradeUrl, () => new FormData(form), form.dataset.sessionUrl, true);
    const answer = await inFlight;
    inFlight = null;
    if (answer.status === 200) {
      form.querySelector("input[name=version]").value = answer.data.grade.version;
      document.getElementById("score").textContent = answer.data.score;
      document.getElementById("graded-by").textContent = `· graded by ${answer.data.grade.graded_by}`;
      const history = document.getElementById("grade-history");
      const wasOpen = history.open;
      history.outerHTML = answer.data.history_html;
      document.getElementById("grade-history").open = wasOpen;
      const changed = document.getElementById("changed-since-graded");
      if (changed) changed.hidden = true;
      unsaved = snapshot() !== sentSnapshot;
      if (unsaved) schedule(TYPE_PAUSE_MS);
      else say(`Saved (version ${answer.data.grade.version}).`, "success");
    } else if (answer.status === 409) {
      showConflict(answer.data.error, answer.data.grade);
    } else if (answer.status === 0) {
      say(`Not saved: ${answer.data.error} Trying again…`, "danger");
      timer = window.setTimeout(save, RETRY_MS);
    } else {
      say(`Not saved: ${answer.data.error || "the server refused it."}`, "danger");
    }
  }

  async function flush() {
    if (timer !== null || (unsaved && !inFlight)) await save();
    else if (inFlight) await inFlight;
  }

  if (form) {
    form.addEventListener("change", (event) => {
      if (event.target.name === "items") schedule(0);
    });
    form.addEventListener("input", (event) => {
      if (event.target.name === "adjustment" || event.target.name === "comment") schedule(TYPE_PAUSE_MS);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      unsaved = true;
      save();
    });
    document.getElementById("conflict-theirs").addEventListener("click", () => {
      document.getElementById("grade-conflict").hidden = true;
      const theirs = form.querySelector("textarea[name=comment]").value;
      if (mineKept.comment.trim() && mineKept.comment !== theirs) {
        const kept = document.getElementById("discarded-comment"); // a comment is never lost without a trace
        kept.querySelector("pre").textContent = mineKept.comment;
        kept.hidden = false;
      }
      unsaved = false;
      say("Kept theirs.", "body-secondary");
    });
    document.getElementById("conflict-mine").addEventListener("click", () => {
      const version = form.querySelector("input[name=version]").value; // theirs
      applyGrade({ version, ...mineKept });
      document.getElementById("grade-conflict").hidden = true;
      unsaved = true;
      save();
    });
    window.addEventListener("beforeunload", (event) => {
      if (unsaved || inFlight) event.preventDefault();
    });
  }

  // ---- moving on: the save goes first ----

  async function go(link) {
    if (!link) return;
    if (form) await flush();
    if (form && (unsaved || !document.getElementById("grade-conflict").hidden)) return; // not saved: stay
    window.location.assign(link.href);
  }

  for (const link of document.querySelectorAll(".grade-nav a")) {
    link.addEventListener("click", (event) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      go(link);
    });
  }

  // an instructor's rubric forms leave the page too: the grade is saved first, and the page stays when it is not
  for (const rubricForm of document.querySelectorAll(".rubric-edit-form")) {
    rubricForm.addEventListener("submit", async (event) => {
      if (!form || rubricForm.dataset.gradeSaved) return;
      event.preventDefault();
      await flush();
      if (unsaved || !document.getElementById("grade-conflict").hidden) {
        say(`${status.textContent} The rubric change is not sent until the grade is saved.`, "danger");
        return;
      }
      rubricForm.dataset.gradeSaved = "1"; // this second submit (dispatched at once) goes through, with its button
      rubricForm.requestSubmit(event.submitter);
      delete rubricForm.dataset.gradeSaved;
    });
  }

  const MOVES = { n: "next-submission", p: "previous-submission", j: "next-question", k: "previous-question", u: "next-ungraded" };

  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "s" && form) {
      event.preventDefault();
      unsaved = true;
      save();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    const typing = target.matches("textarea, input:not([type=checkbox]):not([type=hidden]), select, [contenteditable]");
    if (typing) {
      if (event.key === "Escape") target.blur();
      return;
    }
    if (document.querySelector("dialog[open]")) return;
    const key = event.key;
    if (MOVES[key]) {
      event.preventDefault();
      go(document.getElementById(MOVES[key]));
    } else if (form && /^[1-9]$/.test(key)) {
      const box = form.querySelector(`input[name=items][data-key="${key}"]`);
      if (box) {
        event.preventDefault();
        box.checked = !box.checked;
        box.dispatchEvent(new Event("change", { bubbles: true }));
      }
    } else if (form && key === "c") {
      event.preventDefault();
      form.querySelector("textarea[name=comment]").focus();
    } else if (form && key === "a") {
      event.preventDefault();
      form.querySelector("input[name=adjustment]").select();
    } else if (key === "?") {
      event.preventDefault();
      toggleHelp();
    }
  });
})();
