// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // htmx 2 does not swap 4xx bodies by default: show our 409/422/400 messages in place instead
  // of failing silently.
  if (window.htmx) {
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "(400|409|422)", swap: true, error: true },
      { code: "[45]..", swap: false, error: true },
    ];
  }

  // The phone menu: folded until asked for. The CSS only folds it once this has run, so
  // without JavaScript the links stay reachable.
  var toggle = document.querySelector(".menu-toggle");
  var menu = document.getElementById("site-menu");
  if (toggle && menu) {
    toggle.hidden = false;
    toggle.closest(".topbar").classList.add("menu-ready");
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      menu.classList.toggle("is-open", open);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.classList.contains("is-open")) {
        toggle.setAttribute("aria-expanded", "false");
        menu.classList.remove("is-open");
        toggle.focus();
      }
    });
  }

  // Errors where the eye is: a page that comes back with a refused form (a wrong signing
  // password, a missing reason) brings that form into view and puts the cursor in the first
  // field at fault, unless the page already placed the focus itself.
  if ((document.activeElement === document.body || document.activeElement === null)
      && !document.querySelector("[autofocus]")) {
    var invalid = document.querySelector("main form [aria-invalid='true']");
    var refusal = document.querySelector("main form .errorlist, main form .form-error");
    var target = invalid || refusal;
    if (target) {
      var form = target.closest("form");
      if (form && form.scrollIntoView) form.scrollIntoView({ block: "start" });
      if (invalid) {
        invalid.focus();
      } else {
        refusal.setAttribute("tabindex", "-1");
        refusal.focus();
      }
    }
  }

  // Phone layout of data tables (credence.css): each cell carries its column's header as a
  // label, so a row reads as a card. Tables with data-no-reflow (grids meant to be read
  // across, such as an editable answer table) keep their shape and scroll inside their
  // wrapper. htmx swaps in fresh tables (a polled checklist): label those too.
  function reflowTables(root) {
    var tables = root.querySelectorAll ? root.querySelectorAll("table.table:not([data-no-reflow])") : [];
    Array.prototype.forEach.call(tables, function (table) {
      var headers = table.querySelectorAll("thead tr:last-child th");
      if (!headers.length) return;
      var labels = Array.prototype.map.call(headers, function (th) { return th.textContent.trim(); });
      table.querySelectorAll("tbody tr").forEach(function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.children, function (cell) {
          var label = labels[column];
          if (label && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", label);
          column += cell.colSpan || 1;
        });
      });
      // display:block drops a table's semantics in some screen readers: state them.
      table.setAttribute("role", "table");
      table.querySelectorAll("tr").forEach(function (row) { row.setAttribute("role", "row"); });
      table.querySelectorAll("tbody td").forEach(function (cell) { cell.setAttribute("role", "cell"); });
      table.querySelectorAll("tbody th").forEach(function (cell) { cell.setAttribute("role", "rowheader"); });
      table.querySelectorAll("thead th").forEach(function (cell) { cell.setAttribute("role", "columnheader"); });
      table.classList.add("reflow");
    });
  }
  reflowTables(document);
  document.body.addEventListener("htmx:load", function (event) { reflowTables(event.target); });
});
