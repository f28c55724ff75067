/*
 * The trip upload page (trips/templates/trips/trip_upload.html). Without this script the
 * form posts every file to the page at once; with it, each file goes on its own to
 * POST /api/v1/trips/ (session cookie + CSRF header) with a progress bar, then its status
 * is polled from GET /api/v1/trips/{id}/ until verification has finished.
 * Words come from the page (#upload-texts), in the page's language.
 */
(function () {
  "use strict";

  const POLL_MS = 1500;
  const UNFINISHED = ["received", "processing"];

  function text(key) {
    return window.YQUploadTexts[key] || key;
  }

  function sizeLabel(bytes) {
    if (bytes >= 1048576) return (bytes / 1048576).toFixed(1) + " MB";
    if (bytes >= 1024) return (bytes / 1024).toFixed(0) + " KB";
    return bytes + " B";
  }

  // A row per file: name, size, a progress bar and a live status line.
  function makeRow(list, file) {
    const item = document.createElement("li");
    item.className = "upload-item";
    const name = document.createElement("span");
    name.className = "file-name";
    name.textContent = file.name + " (" + sizeLabel(file.size) + ")";
    const bar = document.createElement("div");
    bar.className = "progress";
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    bar.setAttribute("aria-valuenow", "0");
    bar.setAttribute("aria-label", file.name);
    const fill = document.createElement("span");
    fill.style.width = "0%";
    bar.append(fill);
    const status = document.createElement("p");
    status.className = "upload-status";
    status.setAttribute("aria-live", "polite");
    status.textContent = text("waiting");
    item.append(name, bar, status);
    list.append(item);
    return { item: item, bar: bar, fill: fill, status: status };
  }

  function setProgress(row, percent) {
    row.fill.style.width = percent + "%";
    row.bar.setAttribute("aria-valuenow", String(percent));
  }

  function setStatus(row, words, kind) {
    row.status.textContent = words;
    row.item.dataset.state = kind;
  }

  // Why a trip was rejected or held, in the page's language: its first refusal or flag.
  function why(trip) {
    if (trip.status !== "rejected" && trip.status !== "needs_review") return "";
    const texts = text("reasons");
    const weighed = (trip.reasons || []).filter(function (r) {
      return text("weighed").indexOf(r.code) >= 0;
    });
    const first = weighed[0] || (trip.reasons || [])[0];
    return first ? texts[first.code] || first.message : "";
  }

  function showTrip(row, trip, tripUrl) {
    row.status.textContent = "";
    // The bar said the upload went through; the verdict is the badge and its reason.
    row.bar.hidden = true;
    if (row.again) {
      const note = document.createElement("span");
      note.className = "upload-again";
      note.textContent = text("again") + " ";
      row.status.append(note);
    }
    const badge = document.createElement("span");
    badge.className = "badge status-" + trip.status;
    badge.textContent = text("statuses")[trip.status] || trip.status;
    row.status.append(badge, " ");
    const reason = why(trip);
    if (reason) {
      const words = document.createElement("span");
      words.className = "upload-why";
      words.textContent = reason + " ";
      row.status.append(words);
    }
    if (trip.eligible_m !== undefined && UNFINISHED.indexOf(trip.status) < 0 && trip.status !== "rejected" && trip.status !== "withdrawn") {
      const km = document.createElement("span");
      km.className = "eligible-km";
      km.textContent = text("eligible") + " " + (Number(trip.eligible_m) / 1000).toFixed(3) + " " + text("km") + " ";
      row.status.append(km);
    }
    const link = document.createElement("a");
    link.href = tripUrl.replace("{id}", String(trip.id));
    link.textContent = text("open") + " #" + trip.id;
    row.status.append(link);
    row.item.dataset.state = trip.status;
  }

  // The API's errors are {field: [messages]} or {detail: message}: all of them, in words.
  function errorWords(xhr) {
    let body = null;
    try {
      body = JSON.parse(xhr.responseText);
    } catch (e) {
      body = null;
    }
    const words = [];
    if (body && typeof body === "object") {
      Object.keys(body).forEach(function (key) {
        const value = body[key];
        (Array.isArray(value) ? value : [value]).forEach(function (v) {
          words.push(String(v));
        });
      });
    }
    if (words.length) return words.join(" ");
    if (xhr.status === 413) return text("too_large");
    return text("server") + " (" + xhr.status + ")";
  }

  function poll(apiUrl, id, row, tripUrl) {
    const xhr = new XMLHttpRequest();
    xhr.open("GET", apiUrl + id + "/");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Accept-Language", document.documentElement.lang);
    xhr.onload = function () {
      if (xhr.status !== 200) {
        setStatus(row, errorWords(xhr), "failed");
        return;
      }
      const trip = JSON.parse(xhr.responseText);
      if (UNFINISHED.indexOf(trip.status) >= 0) {
        setStatus(row, text("verifying") + " " + (text("statuses")[trip.status] || ""), "verifying");
        window.setTimeout(function () { poll(apiUrl, id, row, tripUrl); }, POLL_MS);
      } else {
        showTrip(row, trip, tripUrl);
      }
    };
    xhr.onerror = function () {
      window.setTimeout(function () { poll(apiUrl, id, row, tripUrl); }, POLL_MS * 2);
    };
    xhr.send();
  }

  function send(form, file, row) {
    return new Promise(function (resolve) {
      const data = new FormData();
      data.append("vin", form.elements.vehicle.value);
      data.append("file", file, file.name);
      data.append("crs", form.elements.crs.value);
      if (form.elements.format.value) data.append("format", form.elements.format.value);
      if (form.elements.mode.value) data.append("mode", form.elements.mode.value);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.dataset.apiUrl);
      xhr.setRequestHeader("X-CSRFToken", form.elements.csrfmiddlewaretoken.value);
      xhr.setRequestHeader("Accept", "application/json");
      // The API follows Accept-Language; errors must come in the page's language.
      xhr.setRequestHeader("Accept-Language", document.documentElement.lang);
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable) {
          setProgress(row, Math.round((100 * event.loaded) / event.total));
          setStatus(row, text("uploading"), "uploading");
        }
      };
      xhr.onload = function () {
        if (xhr.status === 202 || xhr.status === 200) {
          setProgress(row, 100);
          const trip = JSON.parse(xhr.responseText);
          // The same file again is the trip it already is: said until the verdict and after.
          row.again = xhr.status === 200;
          setStatus(row, row.again ? text("again") : text("verifying"), "verifying");
          poll(form.dataset.apiUrl, trip.id, row, form.dataset.tripUrl);
        } else {
          setStatus(row, text("failed") + " " + errorWords(xhr), "failed");
        }
        resolve();
      };
      xhr.onerror = function () {
        setStatus(row, text("failed") + " " + text("network"), "failed");
        resolve();
      };
      xhr.send(data);
    });
  }

  function init() {
    const form = document.getElementById("upload-form");
    if (!form) return;
    window.YQUploadTexts = JSON.parse(document.getElementById("upload-texts").textContent);
    const input = form.elements.logs;
    const zone = document.getElementById("drop-zone");
    const chosen = document.getElementById("chosen-files");
    const panel = document.getElementById("upload-progress");
    const list = document.getElementById("upload-list");

    function listChosen() {
      chosen.textContent = "";
      Array.prototype.forEach.call(input.files, function (file) {
        const li = document.createElement("li");
        li.textContent = file.name + " (" + sizeLabel(file.size) + ")";
        chosen.append(li);
      });
      askForMode();
    }

    // A format whose fixes carry no driving mode (GPX, NMEA) needs one declared: asked as
    // soon as such a file (or format) is chosen; the server refuses it without one too.
    const modeField = form.elements.mode;
    const modeHint = document.getElementById("mode-needed");
    function needsMode() {
      if (text("formats_without_mode").indexOf(form.elements.format.value) >= 0) return true;
      return Array.prototype.some.call(input.files, function (file) {
        const dot = file.name.lastIndexOf(".");
        const ext = dot < 0 ? "" : file.name.slice(dot + 1).toLowerCase();
        return text("extensions_without_mode").indexOf(ext) >= 0;
      });
    }
    function askForMode() {
      const ask = needsMode() && !modeField.value;
      modeHint.hidden = !ask;
      modeField.required = needsMode();
      modeField.closest(".field").classList.toggle("has-error", ask);
      modeField.setAttribute("aria-invalid", ask ? "true" : "false");
      return ask;
    }
    modeField.addEventListener("change", askForMode);
    form.elements.format.addEventListener("change", askForMode);

    // Dropped files join those already chosen (several drops add up).
    zone.addEventListener("dragover", function (event) {
      event.preventDefault();
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragleave", function () { zone.classList.remove("dragging"); });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("dragging");
      const all = new DataTransfer();
      Array.prototype.forEach.call(input.files, function (f) { all.items.add(f); });
      Array.prototype.forEach.call(event.dataTransfer.files, function (f) { all.items.add(f); });
      input.files = all.files;
      listChosen();
    });
    input.addEventListener("change", listChosen);

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const problem = document.getElementById("upload-problem");
      problem.textContent = "";
      if (!form.elements.vehicle.value) {
        problem.textContent = text("choose_vehicle");
        form.elements.vehicle.focus();
        return;
      }
      const files = Array.prototype.slice.call(input.files);
      if (!files.length) {
        problem.textContent = text("choose_files");
        input.focus();
        return;
      }
      if (askForMode()) {
        problem.textContent = text("choose_mode");
        modeField.focus();
        return;
      }
      panel.hidden = false;
      const rows = files.map(function (file) { return makeRow(list, file); });
      input.value = "";
      listChosen();
      // One file after another: the bars move in turn and the server takes one at a time.
      files.reduce(function (previous, file, i) {
        return previous.then(function () { return send(form, file, rows[i]); });
      }, Promise.resolve());
    });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
