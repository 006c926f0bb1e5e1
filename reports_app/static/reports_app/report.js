// Live word and image counters and a preview for the answer editor, instant checklist ticks.
// Every page works without this file; it only saves round trips.
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

  // Images as markdown shows them, even across lines: /!\[[^\]]*\]\([^)]*\)/g counted in one pass (the pattern is
  // quadratic on "![" repeated). From an `![`, the first `]` must be followed by `(`, and some `)` must follow.
  function countShownImages(text) {
    const nextBracket = finder(text, "]");
    const nextClose = finder(text, ")");
    let count = 0;
    let start = text.indexOf("![");
    while (start !== -1) {
      const bracket = nextBracket(start + 2);
      if (bracket === -1) break;
      const close = text[bracket + 1] === "(" ? nextClose(bracket + 2) : -1;
      if (close === -1) {
        start = text.indexOf("![", bracket + 1);  // every `![` before the `]` fails the same way
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

  function csrfToken(form) {
    return form.querySelector("input[name=csrfmiddlewaretoken]").value;
  }

  function setupEditor(form) {
    const textarea = form.querySelector("textarea[name=text]");
    const counters = document.getElementById("counters");
    if (!textarea || !counters) return;
    const words = range(counters.dataset.words);
    const images = range(counters.dataset.images);
    const isLast = counters.dataset.last === "1";
    const wordCount = document.getElementById("word-count");
    const imageCount = document.getElementById("image-count");
    const verdict = document.getElementById("verdict");
    const warnings = document.getElementById("warnings");
    let saved = textarea.value;

    function update() {
      const text = textarea.value.replace(/\r\n?/g, "\n");
      const answer = courseCut(text, isLast);
      const nWords = countWords(answer);
      const nImages = countImages(answer);
      wordCount.textContent = nWords;
      imageCount.textContent = nImages;
      wordCount.className = within(nWords, words) ? "text-success" : "text-danger";
      imageCount.className = within(nImages, images) ? "text-success" : "text-danger";
      verdict.textContent = within(nWords, words) && within(nImages, images) ? "passes" : "fails";
      const notes = [];
      if (text.includes(MARKER)) notes.push("'Answer:' cannot be saved inside an answer: it breaks the course check of the whole report.");
      else if (!isLast && text.includes("##")) notes.push("The course checker stops counting at the first '##'; the text after it is not counted.");
      const uncounted = countShownImages(answer) - nImages;
      if (uncounted > 0) notes.push(`${uncounted} image${uncounted > 1 ? "s are" : " is"} shown but not counted by the course checker: write each image's markdown on one line.`);
      warnings.replaceChildren(...notes.map((note) => Object.assign(document.createElement("li"), { textContent: note })));
    }

    textarea.addEventListener("input", update);
    update();

    form.addEventListener("submit", (event) => {
      if (event.submitter && event.submitter.name === "preview") {
        event.preventDefault();
        const body = new FormData();
        body.append("text", textarea.value);
        const preview = document.getElementById("preview");
        fetch(form.dataset.previewUrl, { method: "POST", body, headers: { "X-CSRFToken": csrfToken(form) } })
          // 403: the hand-in closed (or this user may not write); the server's HTML says so
          .then((response) => (response.ok || response.status === 403 ? response.text() : Promise.reject(response.status)))
          .then((html) => { preview.innerHTML = html; })  // sanitized or escaped by the server, like every answer we show
          .catch(() => { preview.textContent = "The preview could not be loaded; your text is still in the editor."; });
        return;
      }
      saved = textarea.value;
    });
    window.addEventListener("beforeunload", (event) => {
      if (textarea.value !== saved) event.preventDefault();
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
        headers: { "X-CSRFToken": csrfToken(form), Accept: "application/json" },
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

  const editor = document.getElementById("answer-form");
  if (editor) setupEditor(editor);
  const checklist = document.getElementById("checklist-form");
  if (checklist && checklist.querySelector(".checklist-item:not([disabled])")) setupChecklist(checklist);
})();
