// Live word and image counters and a preview for the answer editor, instant checklist ticks.
// Every page works without this file; it only saves round trips.
(function () {
  "use strict";

  // The characters Python's str.split() splits on (str.isspace), which are not JavaScript's \s:
  // Python adds \x1c-\x1f and \x85, JavaScript adds \ufeff.
  const WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
  // The course checker's image pattern, \!\[.*?\]\(.*?\); Python's "." is any character but \n.
  const IMAGE = /!\[[^\n]*?\]\([^\n]*?\)/g;
  // An image whose markdown spans lines: markdown shows it, the course checker does not count it.
  const ANY_IMAGE = /!\[[^\]]*\]\([^)]*\)/g;
  const MARKER = "Answer:";

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

  function countImages(text) {
    return (text.match(IMAGE) || []).length;
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
      const uncounted = (answer.match(ANY_IMAGE) || []).length - nImages;
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
          .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
          .then((html) => { preview.innerHTML = html; })  // sanitized by the server, like every answer we show
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
