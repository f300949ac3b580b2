/* Shipgate console: live refresh of polled fragments, confirmations, print buttons.
   Loaded as a file (the Content-Security-Policy forbids inline scripts). */
(function () {
  "use strict";

  function setStatus(ok) {
    var el = document.getElementById("live-status");
    if (!el) return;
    el.dataset.state = ok ? "ok" : "error";
    el.textContent = ok ? "实时更新中" : "连接中断，正在重试…";
  }

  function rowIds(container) {
    var ids = new Set();
    container.querySelectorAll("tr[data-id]").forEach(function (tr) { ids.add(tr.dataset.id); });
    return ids;
  }

  function afterUpdate(container, before) {
    var rows = container.querySelectorAll("tr[data-id]");
    rows.forEach(function (tr) { if (!before.has(tr.dataset.id)) tr.classList.add("is-new"); });
    var target = container.dataset.countTarget && document.getElementById(container.dataset.countTarget);
    if (target) target.textContent = String(rows.length);
    if (container.dataset.title) {
      document.title = (rows.length ? "(" + rows.length + ") " : "") + container.dataset.title + " · Shipgate";
    }
  }

  function poll(container) {
    var url = container.dataset.pollUrl;
    var every = parseInt(container.dataset.pollMs, 10) || 2000;
    var last = null;
    function tick() {
      fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          if (response.redirected) {  // signed out (the shift ended): sign in, then back to this page
            var login = new URL(response.url);
            login.searchParams.set("next", window.location.pathname + window.location.search);
            window.location.href = login.toString();
            return null;
          }
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.text();
        })
        .then(function (html) {
          if (html === null) return;
          setStatus(true);
          if (html !== last) {
            var before = rowIds(container);
            container.innerHTML = html;
            last = html;
            afterUpdate(container, before);
          }
        })
        .catch(function () { setStatus(false); })
        .finally(function () { window.setTimeout(tick, every); });
    }
    afterUpdate(container, rowIds(container));
    window.setTimeout(tick, every);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-poll-url]").forEach(poll);
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });
})();
