// htmx 2 does not swap 4xx bodies by default: show our 409/422/400 messages in place instead
// of failing silently.
document.addEventListener("DOMContentLoaded", function () {
  if (window.htmx) {
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "(400|409|422)", swap: true, error: true },
      { code: "[45]..", swap: false, error: true },
    ];
  }
});
