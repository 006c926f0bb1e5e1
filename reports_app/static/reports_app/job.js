// The job page follows its job live: the count and bar move while it runs, and the page reloads once it has
// finished to show the results. Without JavaScript the page shows the state when it was loaded.
(function () {
  "use strict";
  const box = document.getElementById("job");
  if (!box || !["queued", "running"].includes(box.dataset.status)) return;
  const status = document.getElementById("job-status");
  const count = document.getElementById("job-count");
  const bar = document.getElementById("job-bar");
  const bar_box = bar.parentElement;

  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((job) => {
        status.textContent = job.label;
        count.textContent = `${job.done} of ${job.total}`;
        bar.style.width = `${job.total ? Math.round((100 * job.done) / job.total) : 0}%`;
        bar_box.setAttribute("aria-valuenow", job.done);
        bar_box.setAttribute("aria-valuemax", job.total);
        if (job.status === "queued" || job.status === "running") {
          window.setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(() => window.setTimeout(poll, 5000));
  }
  window.setTimeout(poll, 1000);
})();

// A course's list of jobs (the dashboard's, the course's jobs page): each row of a job under way is read again from
// the jobs page every 2 s and replaced by its newer self (state, progress, then the download or Run it again), until
// none is under way. On the dashboard, once a scrape has ended, a note says the table shows the groups as they were.
(function () {
  "use strict";
  const list = document.getElementById("jobs-list");
  if (!list) return;
  const finished = document.getElementById("jobs-finished");
  const under_way = () => list.querySelectorAll("tr[data-active]");

  function poll() {
    fetch(list.dataset.pollUrl, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((html) => {
        const fresh = new DOMParser().parseFromString(html, "text/html");
        let ended = false;
        under_way().forEach((row) => {
          const now = fresh.getElementById(row.id);
          if (!now) {
            row.removeAttribute("data-active"); // gone from the page (logged out, or too old): stop following it
            return;
          }
          ended = ended || (!now.hasAttribute("data-active") && now.dataset.kind === "scrape");
          now.querySelectorAll("input[name=back]").forEach((input) => (input.value = list.dataset.back));
          row.replaceWith(document.importNode(now, true));
        });
        if (ended && finished) finished.hidden = false;
        if (under_way().length) window.setTimeout(poll, 2000);
      })
      .catch(() => window.setTimeout(poll, 5000));
  }
  if (under_way().length) window.setTimeout(poll, 2000);
})();
