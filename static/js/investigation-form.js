// The investigation form: every answer autosaved through the API, none lost offline.
//
// Each change goes into a queue kept in localStorage (one entry per item: the latest value
// and the answer version it was typed on) before anything is sent, so a reload, a crash or a
// dead connection loses nothing; the queue is sent one save at a time, and again whenever the
// connection returns. A retried save is harmless: saving what is stored changes nothing on
// the server. A save made on a stale version comes back 409 with the other officer's answer,
// and the officer chooses: keep mine (resend on their version) or take theirs.
(function () {
  "use strict";

  var root = document.getElementById("inv-form");
  if (!root) return;
  var T = JSON.parse(document.getElementById("inv-messages").textContent);
  var stored = JSON.parse(document.getElementById("inv-answers").textContent) || {};
  var editable = root.dataset.editable === "1";
  var api = root.dataset.api;
  var uploadUrl = root.dataset.upload;
  var storeKey = "credence.investigation." + root.dataset.investigation + ".queue";
  var banner = document.getElementById("save-banner");
  var DEBOUNCE_MS = 700;
  var timers = {};
  var sending = false;
  var retryDelay = 1000;

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; }
    catch (e) { return ""; }
  }

  // --- the queue --------------------------------------------------------------------------
  function loadQueue() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }
  function saveQueue(queue) {
    try { localStorage.setItem(storeKey, JSON.stringify(queue)); } catch (e) { /* private mode */ }
    showBanner(queue);
  }
  function showBanner(queue) {
    var count = Object.keys(queue || loadQueue()).length;
    if (!count) {
      banner.hidden = true;
      banner.textContent = "";
      return;
    }
    banner.hidden = false;
    banner.textContent = navigator.onLine ? T.pending.replace("%(count)s", count)
      : T.offline + " " + T.pending.replace("%(count)s", count);
  }

  function itemEl(code) { return document.getElementById("item-" + code); }
  function versionOf(code) {
    var el = itemEl(code);
    if (el && el.dataset.version) return parseInt(el.dataset.version, 10);
    return stored[code] ? stored[code].version : null;
  }
  function setVersion(code, version) {
    var el = itemEl(code);
    if (el) el.dataset.version = version == null ? "" : String(version);
    stored[code] = stored[code] || {};
    stored[code].version = version;
  }

  // --- reading and writing widgets --------------------------------------------------------
  function files(list) {
    return Array.prototype.map.call(list.querySelectorAll("li[data-id]"), function (li) {
      return li.dataset.id;
    });
  }
  function readValue(el) {
    var type = el.dataset.type;
    var q = function (s) { return el.querySelector(s); };
    var all = function (s) { return Array.prototype.slice.call(el.querySelectorAll(s)); };
    if (type === "yes_no") {
      var picked = q("[data-role=value]:checked");
      return picked ? picked.value === "true" : null;
    }
    if (type === "single_choice") {
      var choice = q("[data-role=value]:checked");
      return choice ? choice.value : null;
    }
    if (type === "multi_choice") {
      return all("[data-role=value]:checked").map(function (i) { return i.value; });
    }
    if (type === "table") {
      var table = q("[data-role=table]");
      var fixed = table.dataset.fixed === "1";
      return all("[data-role=table] tbody tr").map(function (tr) {
        var row = fixed ? { row: tr.dataset.row } : {};
        tr.querySelectorAll("[data-col]").forEach(function (input) {
          var v = input.value.trim();
          row[input.dataset.col] = v === "" ? null : v;
        });
        return row;
      });
    }
    if (type === "photo" || type === "document") return files(q("[data-role=files]"));
    if (type === "location") {
      var lat = q("[data-role=lat]").value.trim(), lng = q("[data-role=lng]").value.trim();
      return lat || lng ? { lat: lat, lng: lng } : null;
    }
    var input = q("[data-role=value]");
    if (!input) return null;
    var text = type === "text" ? input.value : input.value.trim();
    return text === "" ? null : text;
  }

  function readEvidence(el) {
    var evidence = {};
    el.querySelectorAll("[data-role=evidence] [data-doc-type]").forEach(function (box) {
      var ids = files(box.querySelector("[data-role=evidence-files]"));
      if (!ids.length) return;
      if (box.dataset.docType) {
        evidence.documents = evidence.documents || {};
        evidence.documents[box.dataset.docType] = ids;
      } else {
        evidence.photos = ids;
      }
    });
    return Object.keys(evidence).length ? evidence : null;
  }

  function readAnswer(el) {
    var na = el.querySelector("[data-role=na]");
    if (na && na.checked) {
      return { value: null, not_applicable: true,
               na_reason: el.querySelector("[data-role=na-reason]").value, evidence: null };
    }
    return { value: readValue(el), not_applicable: false, na_reason: "",
             evidence: readEvidence(el) };
  }

  // A photo shows as a thumbnail (the same permission-checked download, shown small and loaded
  // only when scrolled to); any file is named in words, not as a bare row number.
  function isPhotoList(list) {
    var box = list.closest("[data-doc-type]");
    if (box) return !box.dataset.docType;
    var item = list.closest("[data-type]");
    return !!item && item.dataset.type === "photo";
  }

  function addFile(list, id) {
    if (list.querySelector('li[data-id="' + id + '"]')) return;
    var li = document.createElement("li");
    li.dataset.id = id;
    var photo = isPhotoList(list);
    var a = document.createElement("a");
    a.href = "/documents/" + encodeURIComponent(id) + "/download/";
    a.target = "_blank";
    var name = (photo ? T.photo : T.document).replace("%(id)s", id);
    if (photo) {
      var img = document.createElement("img");
      img.src = a.href;
      img.alt = name;
      img.loading = "lazy";
      img.className = "thumb";
      a.appendChild(img);
    } else {
      a.textContent = name;
    }
    li.appendChild(a);
    if (editable) {
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "small";
      remove.dataset.role = "remove-file";
      remove.textContent = T.remove;
      li.appendChild(document.createTextNode(" "));
      li.appendChild(remove);
    }
    list.appendChild(li);
  }

  function addRow(el, values) {
    var template = el.querySelector("[data-role=row-template]");
    var tbody = el.querySelector("[data-role=table] tbody");
    var row = template.content.firstElementChild.cloneNode(true);
    if (values) {
      row.querySelectorAll("[data-col]").forEach(function (input) {
        var v = values[input.dataset.col];
        input.value = v == null ? "" : v;
      });
    }
    tbody.appendChild(row);
    return row;
  }

  function writeValue(el, answer) {
    var type = el.dataset.type;
    var value = answer ? answer.value : null;
    var na = el.querySelector("[data-role=na]");
    if (na) {
      na.checked = !!(answer && answer.not_applicable);
      el.querySelector("[data-role=na-reason]").value = (answer && answer.na_reason) || "";
      toggleNa(el);
    }
    if (type === "yes_no" || type === "single_choice" || type === "multi_choice") {
      var wanted = type === "multi_choice" ? (value || []).map(String)
        : value == null ? [] : [String(value)];
      el.querySelectorAll("[data-role=value]").forEach(function (input) {
        input.checked = wanted.indexOf(input.value) !== -1;
      });
    } else if (type === "table") {
      var table = el.querySelector("[data-role=table]");
      if (table.dataset.fixed === "1") {
        var byRow = {};
        (value || []).forEach(function (r) { byRow[r.row] = r; });
        table.querySelectorAll("tbody tr").forEach(function (tr) {
          tr.querySelectorAll("[data-col]").forEach(function (input) {
            var r = byRow[tr.dataset.row] || {};
            input.value = r[input.dataset.col] == null ? "" : r[input.dataset.col];
          });
        });
      } else {
        table.querySelector("tbody").innerHTML = "";
        (value && value.length ? value : [null]).forEach(function (r) { addRow(el, r); });
      }
    } else if (type === "photo" || type === "document") {
      var list = el.querySelector("[data-role=files]");
      list.innerHTML = "";
      (value || []).forEach(function (id) { addFile(list, id); });
    } else if (type === "location") {
      el.querySelector("[data-role=lat]").value = value ? value.lat : "";
      el.querySelector("[data-role=lng]").value = value ? value.lng : "";
    } else if (type !== "derived") {
      var input = el.querySelector("[data-role=value]");
      if (input) input.value = value == null ? "" : value;
    }
    var evidence = (answer && answer.evidence) || {};
    el.querySelectorAll("[data-role=evidence] [data-doc-type]").forEach(function (box) {
      var ids = box.dataset.docType ? (evidence.documents || {})[box.dataset.docType]
        : evidence.photos;
      var list = box.querySelector("[data-role=evidence-files]");
      list.innerHTML = "";
      (ids || []).forEach(function (id) { addFile(list, id); });
    });
    updateCounter(el);
  }

  function describe(answer) {
    if (!answer) return T.empty;
    if (answer.not_applicable) return "N/A: " + answer.na_reason;
    var v = answer.value;
    if (v === true) return T.yes;
    if (v === false) return T.no;
    if (v == null || v === "") return T.empty;
    return typeof v === "string" ? v : JSON.stringify(v);
  }

  function toggleNa(el) {
    var na = el.querySelector("[data-role=na]");
    if (!na) return;
    el.querySelector("[data-role=na-box]").hidden = !na.checked;
    el.querySelector("[data-role=widget]").classList.toggle("is-na", na.checked);
  }

  function updateCounter(el) {
    var counter = el.querySelector("[data-role=counter] [data-count]");
    if (!counter) return;
    var input = el.querySelector("[data-role=value]");
    var n = input.value.trim().length;
    counter.textContent = n;
    counter.parentNode.classList.toggle("short", n < parseInt(input.dataset.min, 10));
  }

  // --- messages next to the field ---------------------------------------------------------
  function setStatus(el, text, kind) {
    var status = el.querySelector("[data-role=status]");
    status.textContent = text || "";
    status.className = "save-state small-print" + (kind ? " " + kind : "");
  }
  function setErrors(el, messages) {
    var error = el.querySelector("[data-role=error]");
    error.textContent = (messages || []).join(" ");
    el.classList.toggle("has-error", !!(messages && messages.length));
    el.querySelectorAll("input, textarea").forEach(function (input) {
      if (messages && messages.length) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    });
  }
  function fieldErrors(code, fields) {
    var out = [];
    Object.keys(fields || {}).forEach(function (key) {
      if (key === code || key.indexOf(code + ".") === 0 || key === "value" ||
          key === "na_reason" || key === "non_field_errors") {
        var where = key.indexOf(code + ".") === 0 ? key.slice(code.length + 1) + ": " : "";
        (fields[key] || []).forEach(function (m) { out.push(where + m); });
      }
    });
    return out;
  }

  // --- progress ---------------------------------------------------------------------------
  function refreshProgress() {
    var progress = document.getElementById("section-progress");
    if (!progress) return;
    var required = root.querySelectorAll("fieldset.item[data-required='1']");
    var answered = Array.prototype.filter.call(required, function (el) {
      return el.dataset.version !== "";
    }).length;
    var step = document.querySelector("[data-progress='" + progress.dataset.section + "']");
    if (step) {
      step.textContent = answered + "/" + required.length;
      step.parentNode.classList.toggle("done", answered >= required.length);
    }
    progress.querySelector("[data-answered]").textContent = answered;
  }

  function bumpTotal(by) {
    var total = document.querySelector("[data-total-answered]");
    if (total) total.textContent = parseInt(total.textContent, 10) + by;
  }

  function applyDerived(derived) {
    Object.keys(derived || {}).forEach(function (code) {
      var out = document.querySelector("[data-derived='" + code + "']");
      if (out) out.textContent = derived[code] == null ? "—" : derived[code];
    });
  }

  // --- sending ----------------------------------------------------------------------------
  function enqueue(code) {
    var el = itemEl(code);
    if (!el) return;
    var queue = loadQueue();
    var previous = queue[code];
    // Typing on: the entry keeps the version it was first typed on, and an open conflict
    // stays open until the officer chooses.
    queue[code] = previous ? Object.assign({}, previous, { answer: readAnswer(el) })
      : { answer: readAnswer(el), base: versionOf(code) };
    saveQueue(queue);
    setStatus(el, T.saving);
  }

  function schedule(code, delay) {
    enqueue(code);
    clearTimeout(timers[code]);
    timers[code] = setTimeout(flush, delay);
  }

  function flush() {
    if (sending) return;
    var queue = loadQueue();
    var code = Object.keys(queue).filter(function (c) { return !queue[c].conflict; })[0];
    if (!code) { showBanner(queue); return; }
    if (!navigator.onLine) { showBanner(queue); return; }
    var entry = queue[code];
    var body = Object.assign({}, entry.answer, { expected_version: entry.base });
    sending = true;
    fetch(api + "answers/" + encodeURIComponent(code) + "/", {
      method: "PUT", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    }).then(function (result) {
      sending = false;
      retryDelay = 1000;
      handle(code, entry, result.status, result.data);
      flush();
    }).catch(function () {
      // No connection (or it dropped mid-request): keep the entry and try again later; the
      // server treats a repeat of a save that did arrive as already done.
      sending = false;
      showBanner();
      setTimeout(flush, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    });
  }

  function settle(code, sentAnswer, newVersion) {
    // Drop the entry if nothing was typed meanwhile; otherwise it now builds on newVersion.
    var queue = loadQueue();
    if (queue[code]) {
      if (JSON.stringify(queue[code].answer) === JSON.stringify(sentAnswer)) delete queue[code];
      else { queue[code].base = newVersion; delete queue[code].conflict; }
    }
    saveQueue(queue);
  }

  function handle(code, entry, status, data) {
    var el = itemEl(code);
    if (status === 200) {
      if (el && el.dataset.version === "" && el.dataset.required === "1") bumpTotal(1);
      setVersion(code, data.answer.version);
      stored[code] = data.answer;
      settle(code, entry.answer, data.answer.version);
      if (el) { setErrors(el, []); setStatus(el, T.saved, "ok"); hideConflict(el); }
      applyDerived(data.derived);
      refreshProgress();
      return;
    }
    if (status === 409 && data.code === "answer_conflict") {
      var queue = loadQueue();
      if (queue[code]) { queue[code].conflict = true; queue[code].current = data.fields.current; }
      saveQueue(queue);
      if (el) showConflict(el, code, data.fields.current);
      return;
    }
    if (status >= 500 || status === 0 || status === 429) {
      setTimeout(flush, retryDelay);
      return;
    }
    // 400, 403, 404, 409 (not editable now): the save cannot succeed as it is; say why next
    // to the field and drop it from the queue (the typed value stays on screen).
    var queue2 = loadQueue();
    if (queue2[code] && JSON.stringify(queue2[code].answer) === JSON.stringify(entry.answer)) {
      delete queue2[code];
    }
    saveQueue(queue2);
    if (el) {
      var messages = fieldErrors(code, data.fields);
      setErrors(el, messages.length ? messages : [data.detail || String(status)]);
      setStatus(el, T.refused, "bad");
    }
  }

  function hideConflict(el) {
    var box = el.querySelector("[data-role=conflict]");
    box.hidden = true;
    box.innerHTML = "";
  }

  function showConflict(el, code, current) {
    var box = el.querySelector("[data-role=conflict]");
    box.innerHTML = "";
    var p = document.createElement("p");
    p.textContent = T.conflict + " ";
    var strong = document.createElement("strong");
    strong.dataset.role = "theirs";
    strong.textContent = describe(current);
    p.appendChild(strong);
    box.appendChild(p);
    [["keep", T.keepMine, "primary"], ["take", T.takeTheirs, ""]].forEach(function (spec) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "small " + spec[2];
      b.dataset.conflict = spec[0];
      b.textContent = spec[1];
      box.appendChild(b);
      box.appendChild(document.createTextNode(" "));
    });
    box.hidden = false;
    setStatus(el, "", "");
  }

  function resolveConflict(el, choice) {
    var code = el.dataset.code;
    var queue = loadQueue();
    var entry = queue[code];
    if (!entry) { hideConflict(el); return; }
    var current = entry.current || {};
    if (choice === "keep") {
      // Mine wins, knowingly: resend naming the version just seen.
      entry.base = current.version == null ? null : current.version;
      delete entry.conflict;
      delete entry.current;
      saveQueue(queue);
      setStatus(el, T.saving);
      flush();
    } else {
      delete queue[code];
      saveQueue(queue);
      if (el.dataset.version === "" && el.dataset.required === "1" && current.version != null) {
        bumpTotal(1);
      }
      setVersion(code, current.version == null ? null : current.version);
      stored[code] = current;
      writeValue(el, current);
      setStatus(el, T.saved, "ok");
      refreshProgress();
    }
    hideConflict(el);
  }

  // --- files: uploaded to the documents API, then saved as ids ----------------------------
  function position() {
    return new Promise(function (resolve) {
      if (!navigator.geolocation) { resolve(null); return; }
      navigator.geolocation.getCurrentPosition(function (p) { resolve(p.coords); },
        function () { resolve(null); }, { enableHighAccuracy: true, timeout: 10000,
                                          maximumAge: 60000 });
    });
  }

  function upload(el, input, list) {
    var file = input.files && input.files[0];
    if (!file) return;
    setStatus(el, T.uploading);
    position().then(function (coords) {
      var form = new FormData();
      form.append("document_type", input.dataset.documentType);
      form.append("file", file);
      form.append("item_code", el.dataset.code);
      if (coords) {
        form.append("device_lat", coords.latitude.toFixed(6));
        form.append("device_lng", coords.longitude.toFixed(6));
        form.append("device_accuracy_m", Math.round(coords.accuracy));
      }
      return fetch(uploadUrl, { method: "POST", body: form, credentials: "same-origin",
                                headers: { "X-CSRFToken": csrfToken(),
                                           "Accept": "application/json" } });
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.status !== 201) throw new Error(data.detail || response.status);
        return data;
      });
    }).then(function (data) {
      addFile(list, String(data.id));
      input.value = "";
      schedule(el.dataset.code, 0);
    }).catch(function (error) {
      setErrors(el, [T.uploadFailed + " " + error.message]);
      setStatus(el, "", "");
    });
  }

  // --- wiring -----------------------------------------------------------------------------
  document.querySelectorAll("fieldset.item").forEach(function (el) {
    writeValue(el, stored[el.dataset.code]);
  });
  // Answers typed before a reload or while offline are still waiting: show and send them.
  var pending = loadQueue();
  Object.keys(pending).forEach(function (code) {
    var el = itemEl(code);
    if (!el) return;
    writeValue(el, pending[code].answer);
    if (pending[code].conflict) showConflict(el, code, pending[code].current);
  });
  showBanner(pending);

  if (!editable) {
    root.querySelectorAll("fieldset.item input, fieldset.item textarea, fieldset.item button")
      .forEach(function (input) { input.disabled = true; });
  } else {
    root.addEventListener("input", function (event) {
      var el = event.target.closest("fieldset.item");
      if (!el || event.target.type === "file") return;
      updateCounter(el);
      var immediate = event.target.type === "radio" || event.target.type === "checkbox";
      schedule(el.dataset.code, immediate ? 0 : DEBOUNCE_MS);
    });
    root.addEventListener("change", function (event) {
      var el = event.target.closest("fieldset.item");
      if (!el) return;
      if (event.target.dataset.role === "na") toggleNa(el);
      if (event.target.type === "file") {
        var box = event.target.closest("[data-doc-type]");
        upload(el, event.target, box ? box.querySelector("[data-role=evidence-files]")
          : el.querySelector("[data-role=files]"));
        return;
      }
      schedule(el.dataset.code, 0);  // leaving a field: send now, no need to wait
    });
    root.addEventListener("click", function (event) {
      var target = event.target;
      var el = target.closest("fieldset.item");
      if (!el) return;
      var role = target.dataset.role;
      if (role === "add-row") { addRow(el, null).querySelector("input").focus(); return; }
      if (role === "remove-row") { target.closest("tr").remove(); schedule(el.dataset.code, 0); return; }
      if (role === "remove-file") { target.closest("li").remove(); schedule(el.dataset.code, 0); return; }
      if (target.dataset.conflict) { resolveConflict(el, target.dataset.conflict); return; }
      if (role === "locate") {
        setStatus(el, T.locating);
        position().then(function (coords) {
          if (!coords) { setErrors(el, [T.noPosition]); setStatus(el, "", ""); return; }
          el.querySelector("[data-role=lat]").value = coords.latitude.toFixed(6);
          el.querySelector("[data-role=lng]").value = coords.longitude.toFixed(6);
          schedule(el.dataset.code, 0);
        });
      }
    });
  }

  // The check-in and check-out buttons fill in the phone's position, then post the form.
  document.querySelectorAll("[data-role=check-in-form]").forEach(function (checkIn) {
    checkIn.addEventListener("submit", function (event) {
      if (checkIn.elements.lat.value) return;
      event.preventDefault();
      position().then(function (coords) {
        if (!coords) { alert(T.noPosition); return; }
        checkIn.elements.lat.value = coords.latitude.toFixed(6);
        checkIn.elements.lng.value = coords.longitude.toFixed(6);
        checkIn.elements.accuracy_m.value = Math.round(coords.accuracy);
        checkIn.submit();
      });
    });
  });

  // The page was rendered from what the server held at that instant; a save sent by the
  // previous page just before a reload can commit after that, and its confirmation can also
  // have cleared the queue. Read the answers once more and show any newer one not being typed.
  function reconcile() {
    fetch(api, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) return;
        // An investigation lists answers inside its sections; an inspection by item code.
        var answers = body.answers || {};
        (body.sections || []).forEach(function (section) {
          (section.items || []).forEach(function (item) { answers[item.code] = item.answer; });
        });
        var queue = loadQueue();
        Object.keys(answers).forEach(function (code) {
          var answer = answers[code];
          var el = itemEl(code);
          if (!answer || !el || queue[code]) return;
          var known = versionOf(code);
          if (known != null && answer.version <= known) return;
          if (el.dataset.version === "" && el.dataset.required === "1") bumpTotal(1);
          stored[code] = answer;
          setVersion(code, answer.version);
          writeValue(el, answer);
        });
        refreshProgress();
      })
      .catch(function () { /* offline: the rendered answers and the queue stand */ });
  }

  window.addEventListener("online", function () { showBanner(); flush(); });
  window.addEventListener("offline", function () { showBanner(); });
  reconcile();
  flush();
})();
