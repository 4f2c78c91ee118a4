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
});
