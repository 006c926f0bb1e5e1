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
