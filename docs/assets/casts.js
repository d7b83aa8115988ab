// Mounts the asciinema player (docs/hooks.py adds it to the site) on every link to a cast:
//   [Play the recording](casts/NAME.cast){ .cfgctl-cast }
// Without JavaScript the link stays: the cast downloads, and `asciinema play FILE` plays it.
(function () {
  function mount() {
    if (typeof AsciinemaPlayer === "undefined") return;
    document.querySelectorAll("a.cfgctl-cast").forEach(function (link) {
      var box = document.createElement("div");
      box.className = "cfgctl-cast-player";
      link.replaceWith(box);
      AsciinemaPlayer.create(link.href, box, {
        fit: "width",
        idleTimeLimit: 2,
        preload: true,
        poster: "npt:0:1",
        terminalFontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
      });
    });
  }
  if (typeof document$ !== "undefined") {
    document$.subscribe(mount);  // Material's page-load stream (also instant navigation)
  } else {
    document.addEventListener("DOMContentLoaded", mount);
  }
})();
