// Figures in the editor: pasting an image into an answer, or dropping one on it, uploads it (the server checks it as
// any upload) and inserts its snippet at the cursor; Insert buttons ([data-figure-insert]) and an upload button
// ([data-figure-file]) do the same for figures already there and for those who cannot paste.
// Every textarea[data-figure-upload] (its value: the figures page's URL, which answers JSON) is attached, also ones
// added to the page later. Nothing here ever removes text from a textarea: a failed upload only says why.
// Without this file the figures page uploads as a plain form, and the snippets are there to copy.
(function () {
  "use strict";

  const UPLOADING = "Uploading {name}…";
  const NOT_UPLOADED = "{name} was not uploaded. {error}";
  const OFFLINE = "The site could not be reached. Your text is unchanged: try again in a moment.";
  const UNEXPECTED = "The site answered in an unexpected way (status {status}). Your text is unchanged.";
  const NOT_AN_IMAGE = "{name} is not an image, so it was not uploaded. Figures are PNG or JPEG images.";
  const REPLACE_QUESTION =
    "A figure named {name} exists.\n\n" +
    "OK: replace it with this image (the old one stays in its history).\n" +
    "Cancel: keep both, and upload this one under a new name.";
  const NO_EDITOR = "Copied {snippet}: paste it into an answer.";
  const TARGETS = "textarea.answer-text, textarea[data-figure-upload]";

  const settings = new WeakMap(); // textarea -> {uploadUrl, csrf, status}
  let lastFocused = null;

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
  }

  function cookie(name) {
    const found = document.cookie.split("; ").find((part) => part.startsWith(name + "="));
    return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
  }

  // The cookie first: it is renewed when the person logs in again (in another tab, say); the form's copy is not.
  function csrfFor(element) {
    return () => {
      const form = element.closest("form");
      const input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
      return cookie("csrftoken") || (input ? input.value : "");
    };
  }

  // Where figure messages go when the page gave no `status`: a [data-figure-status] in the textarea's editor or
  // beside it, else one made after the textarea.
  function statusFor(textarea) {
    return (message, kind) => {
      const editor = textarea.closest("[data-editor]") || textarea.parentElement;
      let box = editor && editor.querySelector("[data-figure-status]");
      if (!box) {
        box = document.createElement("div");
        box.setAttribute("role", "status");
        box.setAttribute("data-figure-status", "");
        textarea.insertAdjacentElement("afterend", box);
      }
      box.textContent = message;
      box.className = "figure-status small mt-1" + (kind === "error" ? " text-danger" : "");
      box.dataset.kind = kind;
    };
  }

  // Insert `text` at the textarea's selection. execCommand keeps the browser's undo (Ctrl+Z takes it out again) and
  // fires `input` itself; where it is missing, setRangeText and an `input` event of our own.
  function insertAtCursor(textarea, text) {
    textarea.focus();
    const before = textarea.value;
    let inserted = false;
    try {
      inserted = document.execCommand("insertText", false, text) && textarea.value !== before;
    } catch (error) {
      inserted = false;
    }
    if (!inserted) {
      textarea.setRangeText(text, textarea.selectionStart, textarea.selectionEnd, "end");
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }

  // The snippet with the line breaks that put it on a line of its own at the cursor.
  function onItsOwnLine(textarea, snippet) {
    const before = textarea.value.slice(0, textarea.selectionStart);
    const after = textarea.value.slice(textarea.selectionEnd);
    return (before && !before.endsWith("\n") ? "\n" : "") + snippet + (after.startsWith("\n") ? "" : "\n");
  }

  function isImage(file) {
    return file.type.startsWith("image/");
  }

  function filesOf(dataTransfer) {
    if (!dataTransfer) return [];
    const files = Array.from(dataTransfer.files || []);
    if (files.length) return files;
    return Array.from(dataTransfer.items || [])
      .filter((item) => item.kind === "file")
      .map((item) => item.getAsFile())
      .filter(Boolean);
  }

  // One POST of the file: {status, data} for a JSON answer, {error} when there is none.
  async function send(uploadUrl, csrf, file, replace) {
    const body = new FormData();
    body.append("file", file, file.name || "image.png");
    if (replace) body.append("replace", replace);
    let response;
    try {
      response = await fetch(uploadUrl, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf(), Accept: "application/json" },
      });
    } catch (error) {
      return { error: OFFLINE };
    }
    try {
      return { status: response.status, data: await response.json() };
    } catch (error) {
      return { error: format(UNEXPECTED, { status: response.status }) };
    }
  }

  // Upload one image; when its name is taken, ask whether to replace that figure or keep both. The figure's JSON
  // answer, or null after saying why not.
  async function upload(file, options) {
    const name = file.name || "image";
    options.status(format(UPLOADING, { name }), "progress");
    let result = await send(options.uploadUrl, options.csrf, file, "");
    if (result.status === 409 && result.data && result.data.exists) {
      const replace = window.confirm(format(REPLACE_QUESTION, { name: result.data.exists })) ? "yes" : "new";
      options.status(format(UPLOADING, { name }), "progress");
      result = await send(options.uploadUrl, options.csrf, file, replace);
    }
    if (result.error || result.status !== 200) {
      const error = result.error || (result.data && result.data.error) || format(UNEXPECTED, result);
      options.status(format(NOT_UPLOADED, { name, error }), "error");
      return null;
    }
    options.status(result.data.message, "success");
    showInPickers(options.uploadUrl, result.data);
    return result.data;
  }

  // Upload the files one after the other, each snippet inserted at the cursor of `textarea` (when there is one).
  async function uploadAll(files, textarea, options) {
    for (const file of files) {
      if (!isImage(file)) {
        options.status(format(NOT_AN_IMAGE, { name: file.name || "The file" }), "error");
        continue;
      }
      const figure = await upload(file, options);
      if (figure && textarea) insertAtCursor(textarea, onItsOwnLine(textarea, figure.snippet));
    }
  }

  // A figure just uploaded shows in the pickers of its group (the ones posting to the same URL).
  function showInPickers(uploadUrl, figure) {
    document.querySelectorAll("[data-figure-picker]").forEach((picker) => {
      if (picker.dataset.figurePicker !== uploadUrl) return;
      const list = picker.querySelector(".figure-picker-list");
      const known = Array.from(list.querySelectorAll("[data-figure-name]")).find(
        (item) => item.dataset.figureName === figure.name,
      );
      if (known) {
        const image = known.querySelector("img");
        if (image && figure.replaced) image.src = figure.url + "?v=" + Date.now();
        return;
      }
      list.querySelectorAll(".figure-picker-empty").forEach((empty) => empty.remove());
      const item = document.createElement("li");
      item.className = "figure-picker-item";
      item.dataset.figureName = figure.name;
      const image = document.createElement("img");
      Object.assign(image, { src: figure.url, alt: "", loading: "lazy", width: 48, height: 48 });
      image.className = "figure-thumb";
      const code = document.createElement("code");
      code.className = "user-select-all text-break";
      code.textContent = figure.snippet;
      const button = document.createElement("button");
      Object.assign(button, { type: "button", textContent: "Insert" });
      button.className = "btn btn-outline-secondary btn-sm figure-insert";
      button.dataset.figureInsert = figure.snippet;
      button.setAttribute("aria-label", "Insert figure " + figure.name);
      item.append(image, code, button);
      list.append(item);
    });
  }

  function optionsOf(textarea) {
    return settings.get(textarea);
  }

  function hasFiles(event) {
    return Boolean(event.dataTransfer) && Array.from(event.dataTransfer.types || []).includes("Files");
  }

  function onPaste(event) {
    const textarea = event.currentTarget;
    const data = event.clipboardData;
    const images = filesOf(data).filter(isImage);
    // Text that comes with a picture of itself (cells copied from a spreadsheet) is pasted as text.
    if (!images.length || data.getData("text/plain")) return;
    event.preventDefault();
    uploadAll(images, textarea, optionsOf(textarea));
  }

  function onDragOver(event) {
    if (!hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    event.currentTarget.classList.add("figure-drop-target");
  }

  function onDragLeave(event) {
    event.currentTarget.classList.remove("figure-drop-target");
  }

  function onDrop(event) {
    const textarea = event.currentTarget;
    textarea.classList.remove("figure-drop-target");
    const files = filesOf(event.dataTransfer);
    if (!files.length) return; // dropped text goes in as the browser puts it
    event.preventDefault();
    uploadAll(files, textarea, optionsOf(textarea));
  }

  // Paste and drop on `textarea` upload images to options.uploadUrl; their snippets land at its cursor. Attaching
  // again only changes the options.
  function attach(textarea, options) {
    const given = options || {};
    const known = settings.has(textarea);
    settings.set(textarea, {
      uploadUrl: given.uploadUrl || textarea.dataset.figureUpload,
      csrf: given.csrf || csrfFor(textarea),
      status: given.status || statusFor(textarea),
    });
    if (known) return;
    textarea.addEventListener("paste", onPaste);
    textarea.addEventListener("dragenter", onDragOver);
    textarea.addEventListener("dragover", onDragOver);
    textarea.addEventListener("dragleave", onDragLeave);
    textarea.addEventListener("drop", onDrop);
  }

  // The textarea a button or an upload input works on: its editor's, else the one last written in.
  function targetFor(element) {
    const editor = element.closest("[data-editor]");
    const own = editor && (editor.querySelector("textarea.answer-text") || editor.querySelector("textarea"));
    if (own) return own;
    if (lastFocused && lastFocused.isConnected) return lastFocused;
    return Array.from(document.querySelectorAll(TARGETS)).find((textarea) => !textarea.readOnly) || null;
  }

  function onInsertClick(event) {
    const button = event.target.closest("[data-figure-insert]");
    if (!button) return;
    event.preventDefault();
    const snippet = button.dataset.figureInsert;
    const textarea = targetFor(button);
    if (textarea) {
      insertAtCursor(textarea, onItsOwnLine(textarea, snippet));
    } else if (navigator.clipboard) {
      navigator.clipboard.writeText(snippet).then(() => (button.title = format(NO_EDITOR, { snippet })));
    }
  }

  function onFileChosen(event) {
    const input = event.target;
    if (!input.matches || !input.matches("input[data-figure-file]")) return;
    const files = Array.from(input.files || []);
    input.value = ""; // the same file can be chosen again
    const textarea = targetFor(input);
    const options = (textarea && optionsOf(textarea)) || {
      uploadUrl: input.dataset.figureFile,
      csrf: csrfFor(input),
      status: (message) => (input.closest("label") || input).setAttribute("title", message),
    };
    uploadAll(files, textarea, Object.assign({}, options, { uploadUrl: input.dataset.figureFile }));
  }

  function onFocus(event) {
    const target = event.target;
    if (target.matches && target.matches(TARGETS) && !target.readOnly) lastFocused = target;
  }

  // A file dropped beside the textarea would make the browser open it in place of the page (and the text with it).
  function keepPage(event) {
    if (!hasFiles(event) || event.defaultPrevented) return;
    if (event.target.closest && event.target.closest("input[type=file]")) return;
    event.preventDefault();
    if (event.type === "dragover") event.dataTransfer.dropEffect = "none";
  }

  // Attach every textarea[data-figure-upload] in `root` and show what works only with this file.
  function scan(root) {
    if (root.matches && root.matches("textarea[data-figure-upload]")) attach(root);
    if (root.matches && root.matches("[data-figure-js]")) root.hidden = false;
    root.querySelectorAll("textarea[data-figure-upload]").forEach((textarea) => attach(textarea));
    root.querySelectorAll("[data-figure-js]").forEach((element) => (element.hidden = false));
  }

  window.reportFigures = { attach, insertAtCursor };

  document.addEventListener("click", onInsertClick);
  document.addEventListener("change", onFileChosen);
  document.addEventListener("focusin", onFocus);
  document.addEventListener("dragover", keepPage);
  document.addEventListener("drop", keepPage);
  scan(document);
  new MutationObserver((changes) => {
    changes.forEach((change) =>
      change.addedNodes.forEach((node) => {
        if (node.nodeType === Node.ELEMENT_NODE) scan(node);
      }),
    );
  }).observe(document.body, { childList: true, subtree: true });
})();
