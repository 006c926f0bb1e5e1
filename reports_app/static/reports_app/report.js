// The answer editor (on its own page, and in place on the report page): live counters and preview, drafts saved as
// you type (on the server and in this browser), Ctrl+S, moves between questions, and every refused save answered
// without losing the text. Instant checklist ticks. Every page works without this file.
(function () {
  "use strict";

  // The characters Python's str.split() splits on (str.isspace), which are not JavaScript's \s:
  // Python adds \x1c-\x1f and \x85, JavaScript adds \ufeff.
  const WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
  const MARKER = "Answer:";

  // text.indexOf(needle, from) for `from`s that never decrease: all calls together read the text once.
  function finder(text, needle) {
    let found = -2;
    return (from) => {
      if (found !== -1 && found < from) found = text.indexOf(needle, from);
      return found;
    };
  }

  // The answer as the course checker cuts it out of a well-formed README (checks.check_alone).
  function courseCut(text, isLast) {
    const pieces = text.split(MARKER);
    let answer = pieces[pieces.length - 1];
    if (!isLast) answer = answer.split("###")[0].split("##")[0];
    return answer.replace(/^\n+|\n+$/g, "");
  }

  function countWords(text) {
    return text.split(WHITESPACE).filter((word) => word !== "").length;
  }

  // The course checker's image count, len(re.findall(r"\!\[.*?\]\(.*?\)", text)), in one pass like
  // checks.count_images: the pattern itself backtracks in cubic time on unclosed images ("![a](" repeated).
  // An `![` starts a match when a `](` follows on its line and a `)` follows that; else no `![` on that line does.
  function countImages(text) {
    const nextLine = finder(text, "\n");
    const nextLink = finder(text, "](");
    const nextClose = finder(text, ")");
    let count = 0;
    let start = text.indexOf("![");
    while (start !== -1) {
      const lineEnd = nextLine(start) === -1 ? text.length : nextLine(start);
      const link = nextLink(start + 2);
      const close = link !== -1 && link < lineEnd ? nextClose(link + 2) : -1;
      if (close === -1 || close > lineEnd) {
        start = text.indexOf("![", lineEnd + 1);
        continue;
      }
      count += 1;
      start = text.indexOf("![", close + 1);
    }
    return count;
  }

  function range(value) {
    return value ? value.split(",").map(Number) : null;
  }

  function within(count, bounds) {
    return !bounds || (bounds[0] <= count && count <= bounds[1]);
  }

  // Talking to the server (session.js): requests that renew a stale CSRF token and log in again without leaving.
  const { currentToken, request, send } = window.siteSession;

  // ---- The editor ----

  // While someone types, one request keeps their draft on the server and brings the preview back: after a pause of
  // SYNC_AFTER_MS, and every DRAFT_EVERY_MS during a long burst. Presence is asked only when no such answer came in
  // the last PRESENCE_EVERY_MS.
  const SYNC_AFTER_MS = 400;
  const DRAFT_EVERY_MS = 5000;
  const PRESENCE_EVERY_MS = 20000;

  function readLocal(key) {
    try {
      return JSON.parse(window.localStorage.getItem(key) || "null");
    } catch (error) {
      return null;
    }
  }

  function writeLocal(key, value) {
    try {
      if (value === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, JSON.stringify(value));
    } catch (error) {
      // storage full or refused: the server's draft still holds the text
    }
  }

  // This browser's copy of an answer's text, if the server never acknowledged it (typed offline, logged out, or in
  // a tab closed before its autosave). Decided without comparing clocks: a copy the server took is marked `synced`.
  function unsyncedLocal(key) {
    const local = readLocal(key);
    return local && !local.synced ? local : null;
  }

  function listItems(list, lines) {
    list.replaceChildren(...lines.map((line) => Object.assign(document.createElement("li"), { textContent: line })));
  }

  class Editor {
    constructor(root, hooks) {
      this.root = root;
      this.hooks = hooks;
      this.textarea = root.querySelector("textarea[name=text]");
      this.version = root.querySelector("input[name=version]");
      this.form = root.querySelector("form");
      this.status = root.querySelector(".save-status");
      this.preview = root.querySelector(".preview");
      this.previewState = root.querySelector(".preview-state");
      this.warnings = root.querySelector(".warnings");
      this.announce = root.querySelector(".announce");
      this.editingNow = root.querySelector(".editing-now");
      this.words = range(root.dataset.words);
      this.images = range(root.dataset.images);
      this.isLast = root.dataset.last === "1";
      this.number = root.dataset.number;
      this.key = root.dataset.storageKey;
      this.saved = root.hasAttribute("data-restored") ? null : this.textarea.value;  // the text as saved, if known
      this.drafted = this.textarea.value;  // the text the server holds as this person's draft or answer
      this.saving = null;
      this.verdict = null;
      this.restoreLocal();
      this.bind();
      this.update();
      this.syncSeq = 0;
      this.syncedAt = 0;  // when the server last answered a sync or a poll (Date.now())
      this.sentAt = 0;  // when the last sync was sent
      if (this.textarea.value !== this.saved) this.scheduleSync(0);
      this.timers = [
        window.setInterval(() => this.retrySync(), DRAFT_EVERY_MS),
        window.setInterval(() => this.poll(), PRESENCE_EVERY_MS),
      ];
      const starts = root.querySelector(".conflict-starts");  // a conflict the server's page showed
      if (starts) {
        starts.hidden = false;
        this.mine = this.textarea.value;
        this.theirs = root.querySelector(".newer-text").textContent;
      }
      root.querySelector(".keys").hidden = false;
      const done = root.querySelector("[data-role=done]");
      if (hooks.close && done) {  // in place on the report page: the editor closes, the page stays
        done.textContent = "Close";
        done.setAttribute("aria-keyshortcuts", "Escape");
      }
      const previewButton = root.querySelector("[data-role=preview-button]");
      if (previewButton) previewButton.hidden = true;
      root.querySelectorAll(".no-script-hint").forEach((hint) => hint.remove());
    }

    // Text typed in this browser and never saved anywhere (offline, logged out, tab closed) comes back, if it is
    // newer than both the saved answer and the server's draft.
    restoreLocal() {
      const local = unsyncedLocal(this.key);
      if (!local || local.text === this.textarea.value) {
        writeLocal(this.key, null);
        return;
      }
      this.textarea.value = local.text;
      this.version.value = local.version;
      this.saved = null;
      const note = document.createElement("div");
      note.className = "alert alert-info local-draft-note";
      note.setAttribute("role", "status");
      note.textContent = `Restored text typed in this browser on ${new Date(local.at).toLocaleString()} that was not saved yet. Save to keep it.`;
      this.root.prepend(note);
    }

    bind() {
      this.textarea.addEventListener("input", () => {
        this.update();
        writeLocal(this.key, { text: this.textarea.value, version: this.version.value, at: Date.now() });
        this.scheduleSync(Date.now() - this.sentAt >= DRAFT_EVERY_MS ? 0 : SYNC_AFTER_MS);
      });
      this.form.addEventListener("submit", (event) => {
        if (event.submitter && event.submitter.name === "preview") return;  // hidden with this script
        event.preventDefault();
        this.save();
      });
      this.root.addEventListener("keydown", (event) => this.onKey(event));
      this.root.addEventListener("click", (event) => {
        const start = event.target.closest("[data-start]");
        if (start) this.startFrom(start.dataset.start);
        const done = event.target.closest("[data-role=done]");
        if (done && this.hooks.close) {
          event.preventDefault();
          this.hooks.close(this);
        }
      });
      this.onUnload = (event) => {
        if (this.dirty() && this.textarea.value !== this.drafted) event.preventDefault();
      };
      window.addEventListener("beforeunload", this.onUnload);
      // A tab closed (or put away on a phone) between two autosaves still leaves its draft on the server.
      this.onHide = (event) => {
        if (event.type === "pagehide" || document.visibilityState === "hidden") this.flushDraft();
      };
      document.addEventListener("visibilitychange", this.onHide);
      window.addEventListener("pagehide", this.onHide);
    }

    onKey(event) {
      const mod = event.ctrlKey || event.metaKey;
      if (mod && !event.altKey && event.key.toLowerCase() === "s") {
        event.preventDefault();
        this.save();
      } else if (event.altKey && !mod && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
        event.preventDefault();
        this.move(event.key === "ArrowDown" ? 1 : -1);
      } else if (event.key === "Escape" && this.hooks.close && !event.defaultPrevented) {
        event.preventDefault();
        this.hooks.close(this);
      }
    }

    async move(delta) {
      if (this.hooks.move) return this.hooks.move(this, delta);
      const link = document.querySelector(delta > 0 ? ".question-moves a[rel=next]" : ".question-moves a[rel=prev]");
      if (!link) return;
      if (this.textarea.value !== this.saved && !(await this.save())) return;
      window.location.assign(link.href);
    }

    dirty() {
      return this.textarea.value !== this.saved;
    }

    update() {
      const text = this.textarea.value.replace(/\r\n?/g, "\n");
      const answer = courseCut(text, this.isLast);
      const words = countWords(answer);
      const images = countImages(answer);
      const wordCount = this.root.querySelector(".word-count");
      const imageCount = this.root.querySelector(".image-count");
      wordCount.textContent = words;
      imageCount.textContent = images;
      wordCount.className = "word-count " + (within(words, this.words) ? "text-success" : "text-danger");
      imageCount.className = "image-count " + (within(images, this.images) ? "text-success" : "text-danger");
      const passes = within(words, this.words) && within(images, this.images);
      const verdict = !text.trim() ? "○ not answered" : passes ? "✓ passes" : "✗ fails";
      this.root.querySelector(".verdict-now").textContent = verdict;
      if (this.verdict !== null && verdict !== this.verdict) {
        this.announce.textContent = `Question ${this.number} ${verdict.slice(2)}.`;  // only changes are announced
      }
      this.verdict = verdict;
    }

    scheduleSync(delay) {
      window.clearTimeout(this.syncTimer);
      this.previewState.textContent = "updating…";
      this.preview.classList.add("stale");
      this.syncTimer = window.setTimeout(() => this.sync(), delay);
    }

    // The draft to the server, the preview and the checker's warnings back. An answer to an older text is not shown:
    // a newer sync is on its way.
    async sync() {
      const seq = ++this.syncSeq;
      const text = this.textarea.value;
      this.sentAt = Date.now();
      const answer = await send(this.root.dataset.draftUrl, () => this.body(true), this.root.dataset.sessionUrl, false);
      if (answer.status === 200) {
        this.drafted = text;
        this.syncedAt = Date.now();
        const local = readLocal(this.key);
        if (local && local.text === text) writeLocal(this.key, { ...local, synced: true });
        this.showEditing(answer.data);
        if (this.status.dataset.draftProblem) this.say("Draft saved.", "body-secondary");
        delete this.status.dataset.draftProblem;
      }
      if (seq !== this.syncSeq) return;
      if (answer.status === 200) {
        this.preview.innerHTML = answer.data.html;  // sanitized (or escaped) by the server, like every answer shown
        listItems(this.warnings, answer.data.warnings);
        this.previewState.textContent = "";
        this.preview.classList.remove("stale");
        return;
      }
      this.previewState.textContent = `not updated: ${answer.data.error}`;
      this.status.dataset.draftProblem = "1";
      const why = answer.status === 401 ? "you are no longer logged in" : answer.data.error;
      this.say(`Draft not saved on the server (${why}); it is kept in this browser. Press Save to try again.`, "warning-emphasis");
    }

    // A sync that failed (offline, say) is tried again every few seconds while the text differs from the server's.
    retrySync() {
      const text = this.textarea.value;
      if (!this.saving && text !== this.drafted && text !== this.saved && Date.now() - this.sentAt >= DRAFT_EVERY_MS) {
        this.sync();
      }
    }

    say(message, kind) {
      this.status.textContent = message;
      this.status.className = `small save-status text-${kind}`;
    }

    body(preview) {
      const body = new FormData();
      body.append("text", this.textarea.value);
      body.append("version", this.version.value);
      if (preview) body.append("preview", "1");
      return body;
    }

    flushDraft() {
      const text = this.textarea.value;
      if (text === this.drafted || text === this.saved || !navigator.sendBeacon) return;
      const body = this.body();
      body.append("csrfmiddlewaretoken", currentToken());
      if (navigator.sendBeacon(this.root.dataset.draftUrl, body)) this.drafted = text;
    }

    async poll() {
      if (document.hidden || Date.now() - this.syncedAt < PRESENCE_EVERY_MS) return;
      const answer = await request(this.root.dataset.draftUrl, { method: "GET" });
      if (answer.status === 200) {
        this.syncedAt = Date.now();
        this.showEditing(answer.data);
      }
    }

    showEditing(data) {
      const names = data.editing || [];
      let line = names.length ? `${names.join(", ")} ${names.length > 1 ? "are" : "is"} editing this answer too.` : "";
      if (data.version > Number(this.version.value)) {
        line += ` ${data.updated_by || "Someone"} saved version ${data.version} meanwhile: when you save, you will see both.`;
      }
      if (this.editingNow.textContent !== line.trim()) this.editingNow.textContent = line.trim();
    }

    // Save and stay. Resolves true when saved; whatever happens the text stays in the editor and in this browser.
    save() {
      if (!this.saving) this.saving = this.trySave().finally(() => { this.saving = null; });
      return this.saving;
    }

    async trySave() {
      const text = this.textarea.value;
      this.say("Saving…", "body-secondary");
      const answer = await send(this.root.dataset.saveUrl, () => this.body(), this.root.dataset.sessionUrl, true);
      const data = answer.data;
      if (answer.status === 200) {
        this.version.value = data.version;
        this.saved = this.drafted = text;
        if (this.textarea.value === text) writeLocal(this.key, null);
        this.root.querySelector(".conflict-slot").replaceChildren();
        this.root.querySelectorAll(".draft-note, .local-draft-note").forEach((note) => note.remove());
        listItems(this.warnings, data.warnings);
        this.say(`✓ ${data.message}`, "success");
        if (this.hooks.saved) this.hooks.saved(this, data);
        return true;
      }
      if (answer.status === 409) {
        const slot = this.root.querySelector(".conflict-slot");
        slot.innerHTML = data.conflict.panel_html;  // rendered (and escaped) by the server
        slot.querySelector(".conflict-starts").hidden = false;
        this.mine = text;
        this.theirs = data.conflict.text;
        this.version.value = data.conflict.version;
        this.saved = null;
        this.say(`Not saved: ${data.error}`, "danger");
        slot.scrollIntoView({ block: "nearest" });
        return false;
      }
      const kept = " Your text is still here and kept in this browser.";
      if (answer.status === 401) this.say(`Not saved: you are not logged in.${kept} Press Save to log in and save.`, "danger");
      else if (answer.status === 403) {
        this.textarea.readOnly = true;  // the hand-in closed: the text stays, to copy
        this.say(`Not saved: ${data.error}${kept} Copy it if you need it.`, "danger");
      } else if (answer.status === 400) this.say(`Not saved: ${data.error}`, "danger");
      else this.say(`Not saved: ${data.error}${kept} Press Save again in a moment.`, "danger");
      return false;
    }

    // The conflict's starting points for the merge; each replaces the editor's text as an undoable edit.
    startFrom(which) {
      const text = which === "mine" ? this.mine : which === "theirs" ? this.theirs : `${this.mine}\n\n${this.theirs}`;
      this.textarea.focus();
      this.textarea.select();
      if (!document.execCommand || !document.execCommand("insertText", false, text)) {
        this.textarea.value = text;
        this.textarea.dispatchEvent(new Event("input", { bubbles: true }));
      }
    }

    async close() {
      if (this.textarea.value !== this.drafted && this.textarea.value !== this.saved) await this.sync();
      this.timers.forEach((timer) => window.clearInterval(timer));
      window.clearTimeout(this.syncTimer);
      window.removeEventListener("beforeunload", this.onUnload);
      document.removeEventListener("visibilitychange", this.onHide);
      window.removeEventListener("pagehide", this.onHide);
    }
  }

  // ---- The report page: any answer edited in place, one at a time, with moves to the next and previous ----

  function setupInlineEditing() {
    const articles = Array.from(document.querySelectorAll("article[id^=question-]"));
    let open = null;  // { article, editor, view }

    async function openAt(article) {
      if (open && open.article === article) {
        open.editor.textarea.focus();
        return;
      }
      const link = article.querySelector("a[data-inline-edit]");
      if (open && !(await closeOpen())) return;
      let response;
      try {
        response = await fetch(link.href + "?fragment=1", { credentials: "same-origin" });
      } catch (error) {
        response = null;
      }
      if (!response || !response.ok || response.redirected) {
        window.location.assign(link.href);  // the page of its own says what is wrong (or asks to log in)
        return;
      }
      const body = article.querySelector("[data-answer-body]");
      const view = Array.from(body.children).filter((child) => !child.classList.contains("prompt-text"));
      view.forEach((child) => { child.hidden = true; });
      const holder = document.createElement("div");
      holder.innerHTML = await response.text();  // our own template's HTML
      body.append(holder);
      link.hidden = true;
      const editor = new Editor(holder.querySelector("[data-editor]"), { close: () => closeOpen(), move, saved });
      open = { article, editor, view, holder, link };
      editor.textarea.focus();
      article.scrollIntoView({ block: "start" });
    }

    // Closes the open editor, saving first when its text changed; false (and it stays open) when the save failed.
    async function closeOpen() {
      if (!open) return true;
      const { editor, view, holder } = open;
      if (editor.dirty() && !(await editor.save())) return false;
      await editor.close();
      const { article, card } = open;
      let link = open.link;
      if (card) {  // saved: the card as the server renders it now
        const index = articles.indexOf(article);
        article.replaceWith(card);
        articles[index] = card;
        bindLink(card);
        link = card.querySelector("a[data-inline-edit]");
      } else {
        holder.remove();
        view.forEach((child) => { child.hidden = false; });
        link.hidden = false;
      }
      open = null;
      link.focus({ preventScroll: true });
      link.closest("article").scrollIntoView({ block: "nearest" });
      return true;
    }

    async function move(editor, delta) {
      const index = articles.indexOf(open.article) + delta;
      const target = articles.slice(Math.max(index, 0)).find((a) => a.querySelector("a[data-inline-edit]"));
      if (index < 0 || !target) return;
      await openAt(target);
    }

    // The server sends the question's card as the page now shows it: its verdict and footer change at once, the rest
    // (the answer as rendered) when the editor closes.
    function saved(editor, data) {
      const card = document.createElement("div");
      card.innerHTML = data.card_html;  // our own template's HTML, answers sanitized
      open.card = card.firstElementChild;
      for (const part of [".card-header", ".card-footer"]) {
        open.article.querySelector(part).replaceWith(open.card.querySelector(part).cloneNode(true));
      }
      open.link = open.article.querySelector("a[data-inline-edit]");
      bindLink(open.article);
      open.link.hidden = true;
      const jump = document.getElementById(`jump-${editor.number}`);
      if (jump) jump.outerHTML = data.jump_html;
      const passed = document.getElementById("passed");
      if (passed) passed.textContent = `passed ${data.passed}/${data.total}`;
      const answered = document.getElementById("answered");
      if (answered) answered.textContent = `answered ${data.answered}/${data.total}`;
    }

    function bindLink(article) {
      const link = article.querySelector("a[data-inline-edit]");
      if (!link) return;
      link.addEventListener("click", (event) => {
        if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;  // a new tab wants the page
        event.preventDefault();
        openAt(article);
      });
    }

    articles.forEach(bindLink);
    articles.forEach((article) => {
      const local = article.dataset.storageKey && unsyncedLocal(article.dataset.storageKey);
      if (!local) return;
      const note = Object.assign(document.createElement("span"), {
        className: "d-block text-warning-emphasis local-draft-waiting",
        textContent: `✎ Text typed in this browser on ${new Date(local.at).toLocaleString()} is not saved yet: Edit to go on with it.`,
      });
      article.querySelector(".card-footer > span").append(note);
    });
  }

  function setupChecklist(form) {
    const status = document.getElementById("checklist-status");
    const button = document.getElementById("checklist-save");
    if (button) button.hidden = true;
    form.addEventListener("change", (event) => {
      const box = event.target;
      if (!box.classList.contains("checklist-item")) return;
      const body = new FormData();
      body.append(box.checked ? "item" : "was", box.value);
      box.disabled = true;
      status.textContent = "Saving…";
      fetch(form.action, {
        method: "POST",
        body,
        headers: { "X-CSRFToken": currentToken(), Accept: "application/json" },
      })
        .then((response) => response.json().then((data) => (response.ok ? data : Promise.reject(data.error))))
        .then(() => {
          // Keep the no-JavaScript fallback's record of what is ticked in step.
          let was = document.getElementById("was-" + box.value);
          if (box.checked && !was) {
            was = Object.assign(document.createElement("input"), { type: "hidden", name: "was", value: box.value, id: "was-" + box.value });
            box.after(was);
          } else if (!box.checked && was) {
            was.remove();
          }
          status.textContent = "Saved.";
        })
        .catch((error) => {
          box.checked = !box.checked;
          status.textContent = "Not saved: " + (typeof error === "string" ? error : "the server could not be reached.");
        })
        .finally(() => { box.disabled = false; });
    });
  }

  document.querySelectorAll("[data-editor]").forEach((root) => new Editor(root, {}));
  if (document.querySelector("a[data-inline-edit]")) setupInlineEditing();
  const checklist = document.getElementById("checklist-form");
  if (checklist && checklist.querySelector(".checklist-item:not([disabled])")) setupChecklist(checklist);
})();
