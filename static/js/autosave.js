/*
 * Palier: autosave of the questionnaire (section pages). Loaded with `defer` after htmx and
 * palier.js; no inline script (CSP). Without JavaScript the section form posts as a whole.
 *
 * htmx does the requests and the swaps: the form has hx-post (the autosave URL),
 * hx-trigger="autosave", hx-swap="none", hx-sync="this:queue all". This script triggers
 * `autosave` for one question at a time and sets the parameters in htmx:configRequest:
 * question=<id>, version=<base version of this question>, seen=<latest version the page knows>,
 * q_<id>=<value(s)> (absent: cleared). Responses are blocks of pages/director/section.html
 * (app/routes/assessments.py `autosave`): <hx-partial> elements replace the page's own (version,
 * progress, counts, questions), out-of-band ones fill the status and the alerts.
 * X-Palier-Outcome: saved (200), conflict | closed (409), invalid (422); 401: session expired;
 * 403: CSRF token stale or not allowed. "Garder la valeur enregistrée" is a plain hx-get.
 *
 * What only a script can do stays here: the queue (in order of change, the value read when the
 * request leaves so the last one wins), keeping values typed but not saved when their question
 * is refreshed, conflict and failure states with retry, and saving before leaving the page.
 */
(function () {
  "use strict";

  var form = document.getElementById("section-form");
  if (!form || !form.hasAttribute("hx-post") || !window.htmx) return;

  var DEBOUNCE_MS = 600;
  var RETRY_MS = 30000;
  var TEXT_TYPES = { text: 1, number: 1, email: 1, tel: 1, url: 1, search: 1 };

  var state = {
    queue: [],        // question ids waiting to be sent, in order of change
    seq: {},          // question id -> change counter
    timers: {},       // question id -> debounce timer
    unsaved: {},      // question id -> true while the page holds a value not saved
    base: {},         // question id -> version the user's value was based on (if older)
    blocked: {},      // question id -> "conflict" | "invalid": waits for the user
    sent: null,       // the save in flight: {qid, seq, seen}
    busy: false,      // a save (or a CSRF refresh) is in flight
    paused: null,     // null | "auth" | "offline" | "error" | "forbidden" | "closed"
    csrfRetried: false,
    retryTimer: null,
    waiters: [],
    submitting: false
  };

  /* ---- small helpers ------------------------------------------------------------------ */

  function readVersion() {
    var input = document.getElementById("assessment-version");
    return input ? parseInt(input.value, 10) || 0 : 0;
  }

  function questionOf(el) {
    if (!(el instanceof Element)) return null;
    var name = el.getAttribute("name") || "";
    if (name.indexOf("q_") !== 0 || !form.contains(el)) return null;
    return name.slice(2);
  }

  function wrapper(qid) {
    return document.getElementById("question-" + qid);
  }

  function fields(qid) {
    return form.querySelectorAll('[name="q_' + CSS.escape(qid) + '"]');
  }

  function focusField(qid) {
    var first = wrapper(qid) && wrapper(qid).querySelector("input, select, textarea");
    if (first) first.focus();
  }

  function isTextual(el) {
    return el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && TEXT_TYPES[el.type] === 1);
  }

  function labelOf(qid) {
    var w = wrapper(qid);
    var label = w && w.querySelector("legend, label");
    return label ? label.textContent.replace(/\s*\(obligatoire\)\s*$/, "").trim() : qid;
  }

  function setStatus(text, kind) {
    var current = document.getElementById("save-status-text");
    if (!current) return;
    current.className = "palier-save-status__text" + (kind ? " palier-save-status--" + kind : "");
    current.textContent = text;
  }

  function hasPending() {
    return state.busy || state.queue.length > 0 || Object.keys(state.timers).length > 0;
  }

  function hasUnsaved() {
    return hasPending() || Object.keys(state.unsaved).length > 0;
  }

  function hasConflict() {
    return Object.keys(state.blocked).some(function (q) { return state.blocked[q] === "conflict"; });
  }

  function markFailed() {
    Object.keys(state.unsaved).forEach(function (qid) {
      var w = wrapper(qid);
      if (w) w.classList.add("palier-question--unsaved");
    });
  }

  function markSaved(qid) {
    delete state.unsaved[qid];
    var w = wrapper(qid);
    if (w) w.classList.remove("palier-question--unsaved");
  }

  function removeAlert(id) {
    var el = document.getElementById(id);
    if (el) el.remove();
  }

  /* ---- failure alerts (the page's <template id="autosave-failures">) ------------------ */

  function failureAlert(kind) {
    var tpl = document.getElementById("autosave-failures");
    var box = tpl && tpl.content.querySelector('[data-kind="' + kind + '"]');
    if (!box) return null;
    box = box.cloneNode(true);
    var old = document.getElementById("autosave-failure");
    if (old) old.replaceWith(box);
    else document.getElementById("autosave-alerts").appendChild(box);
    return box;
  }

  function showFailure(kind, status) {
    var box = failureAlert(kind);
    if (!box) return;
    var pending = Object.keys(state.unsaved);
    box.querySelector("[data-code]").textContent = status ? " (code " + status + ")" : "";
    box.querySelector("[data-pending]").textContent = pending.length ? "Réponse" +
      (pending.length > 1 ? "s" : "") + " en attente : " + pending.map(labelOf).join(" ; ") + "." : "";
    box.focus();
    markFailed();
    setStatus("Réponses non enregistrées", "error");
  }

  function showRecovered() {
    if (document.getElementById("autosave-failure")) failureAlert("recovered");
  }

  function focusFirstAlert() {
    var first = document.querySelector("#autosave-alerts [role=alert]");
    if (first) first.focus();
  }

  /* ---- the queue ---------------------------------------------------------------------- */

  function touch(qid) {
    state.seq[qid] = (state.seq[qid] || 0) + 1;
    state.unsaved[qid] = true;
  }

  function enqueue(qid) {
    clearTimeout(state.timers[qid]);
    delete state.timers[qid];
    delete state.blocked[qid];
    if (state.queue.indexOf(qid) < 0) state.queue.push(qid);
    setTimeout(pump, 0);  // after other change handlers (exclusive options) have run
  }

  function requeueFront(qid) {
    if (state.queue.indexOf(qid) < 0) state.queue.unshift(qid);
  }

  /* A question that no longer applies: its pending value is dropped with it. */
  function forget(qid) {
    clearTimeout(state.timers[qid]);
    delete state.timers[qid];
    state.queue = state.queue.filter(function (q) { return q !== qid; });
    delete state.blocked[qid];
    delete state.base[qid];
    removeAlert("autosave-conflict-" + qid);
    markSaved(qid);
  }

  function pump() {
    if (state.paused) settleWaiters();  // whoever waits (a link, the submit) is told "no"
    if (state.busy || state.paused) return;
    var qid = state.queue.filter(function (q) { return !state.blocked[q]; })[0];
    if (qid === undefined) settleWaiters();
    else send(qid);
  }

  function settleWaiters() {
    if (hasPending() && !state.paused) return;
    var ok = !state.paused && !hasConflict();
    var waiters = state.waiters;
    state.waiters = [];
    waiters.forEach(function (resolve) { resolve(ok); });
  }

  function whenSettled() {
    Object.keys(state.timers).forEach(enqueue);
    return new Promise(function (resolve) {
      state.waiters.push(resolve);
      setTimeout(pump, 0);
    });
  }

  function pause(kind, status) {
    state.paused = kind;
    showFailure(kind, status);
    settleWaiters();
    clearTimeout(state.retryTimer);
    if (kind === "offline" || kind === "error") {
      state.retryTimer = setTimeout(function () { retry(false); }, RETRY_MS);
    }
  }

  function send(qid) {
    state.busy = true;
    state.queue.splice(state.queue.indexOf(qid), 1);
    state.sent = { qid: qid };
    removeAlert("autosave-conflict-" + qid);  // a new conflict brings its own alert
    setStatus("Enregistrement en cours…", "");
    htmx.trigger(form, "autosave");
  }

  /* The request leaves (maybe after others queued by hx-sync): its parameters, read now. */
  form.addEventListener("htmx:configRequest", function (event) {
    var sent = state.sent;
    if (event.target !== form || !sent) return;
    var params = new FormData();
    sent.seq = state.seq[sent.qid];
    sent.seen = readVersion();
    params.append("question", sent.qid);
    params.append("version", String(sent.qid in state.base ? state.base[sent.qid] : sent.seen));
    params.append("seen", String(sent.seen));
    fields(sent.qid).forEach(function (el) {
      if (el.disabled || ((el.type === "radio" || el.type === "checkbox") && !el.checked)) return;
      params.append(el.name, el.value);
    });
    event.detail.parameters = params;
  });

  /* Conflict, closed and invalid answers are swapped too (not errors: the page shows them),
   * except an invalid value the user has changed since. */
  form.addEventListener("htmx:beforeSwap", function (event) {
    var sent = state.sent;
    var outcome = event.detail.xhr.getResponseHeader("X-Palier-Outcome");
    if (event.target !== form || !sent || !/^(conflict|closed|invalid)$/.test(outcome || "")) return;
    event.detail.isError = false;
    event.detail.shouldSwap = outcome !== "invalid" || state.seq[sent.qid] === sent.seq;
  });

  /* A refreshed question that holds an unsaved value keeps it (its base version stays the
   * older one); a question that no longer applies is dropped with its pending value. */
  document.addEventListener("htmx:partialBeforeSwap", function (event) {
    var sent = state.sent;
    var id = event.detail.target.id || "";
    if (!sent || id.indexOf("question-") !== 0) return;
    var qid = id.slice("question-".length);
    var fresh = event.detail.fragment.firstElementChild;
    if (fresh && fresh.hasAttribute("hidden")) {
      forget(qid);
    } else if (qid !== sent.qid && state.unsaved[qid]) {
      event.detail.shouldSwap = false;
      if (!(qid in state.base)) state.base[qid] = sent.seen;
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (elt === form && state.sent) {
      saved(event.detail.xhr);
    } else if (elt && elt.getAttribute("data-autosave-action") === "keep" && event.detail.successful) {
      kept(elt.getAttribute("data-question"), event.detail.xhr);
    }
  });

  /* "Garder la valeur enregistrée" failed: say why, like a failed save. */
  function keepFailed(event) {
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!elt || elt.getAttribute("data-autosave-action") !== "keep") return;
    var status = event.type === "htmx:sendError" ? 0 : event.detail.xhr.status;
    showFailure(status === 0 ? "offline" : status === 401 ? "auth" : "error", status);
  }
  document.addEventListener("htmx:responseError", keepFailed);
  document.addEventListener("htmx:sendError", keepFailed);

  function saved(xhr) {
    var sent = state.sent;
    var qid = sent.qid;
    var outcome = xhr.getResponseHeader("X-Palier-Outcome");
    var current = state.seq[qid] === sent.seq;
    state.sent = null;
    state.busy = false;
    if (outcome === "saved") {
      state.csrfRetried = false;
      delete state.base[qid];
      clearError(qid);
      if (current) markSaved(qid);
      if (!state.paused) showRecovered();
    } else if (outcome === "conflict") {
      state.blocked[qid] = "conflict";
      markFailed();
    } else if (outcome === "invalid") {
      if (current) state.blocked[qid] = "invalid";
    } else if (outcome === "closed") {
      requeueFront(qid);
      state.paused = "closed";
      markFailed();
      settleWaiters();
      return;
    } else {
      requeueFront(qid);
      failed(xhr.status);
      return;
    }
    pump();
  }

  function failed(status) {
    if (status === 403 && !state.csrfRetried) {
      // Logged in again elsewhere: this page's CSRF token belongs to the old session; or
      // logged out elsewhere: then the fresh copy of the page is the login page.
      state.csrfRetried = true;
      state.busy = true;
      refreshCsrf().then(function (result) {
        state.busy = false;
        if (result === "login") pause("auth", 401);
        else pump();
      });
    } else if (status === 0) {
      pause("offline");
    } else {
      pause(status === 401 ? "auth" : status === 403 ? "forbidden" : "error", status);
    }
  }

  /* The saved question is left as the user set it: only its old error goes. */
  function clearError(qid) {
    var w = wrapper(qid);
    if (!w) return;
    w.querySelectorAll(".fr-message--error").forEach(function (el) { el.remove(); });
    w.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    w.querySelectorAll("[class*='--error']").forEach(function (el) {
      el.className = el.className.replace(/\S+--error\b/g, "").trim();
    });
  }

  /* The CSRF token of the current session, read from a fresh copy of this page:
   * "ok" (token updated), "login" (no session: the copy is the login page) or "fail". */
  function refreshCsrf() {
    return fetch(location.pathname + location.search, {
      credentials: "same-origin", headers: { "Accept": "text/html" }
    }).then(function (r) {
      if (r.redirected && new URL(r.url).pathname === "/connexion") return "login";
      if (!r.ok) return "fail";
      return r.text().then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        var input = doc.querySelector('#section-form input[name="csrf_token"]');
        if (!input || !input.value) return "fail";
        document.querySelectorAll('input[name="csrf_token"]').forEach(function (el) {
          el.value = input.value;
        });
        var hx = doc.body && doc.body.getAttribute("hx-headers");
        if (hx) document.body.setAttribute("hx-headers", hx);
        return "ok";
      });
    }).catch(function () { return "fail"; });
  }

  function retry(refresh) {
    clearTimeout(state.retryTimer);
    if (state.busy) return;
    var go = function () {
      state.paused = null;
      state.csrfRetried = false;
      setStatus("Nouvel essai d’enregistrement…", "");
      pump();
    };
    if (!refresh) {
      go();
      return;
    }
    refreshCsrf().then(function (result) {
      if (result === "login") showFailure("auth", 401);  // still logged out: say so again
      else go();
    });
  }

  /* ---- conflict choices --------------------------------------------------------------- */

  /* "Garder la valeur enregistrée": htmx swapped in the stored value; later changes of the
   * question are based on the version it came with. */
  function kept(qid, xhr) {
    var version = parseInt(xhr.getResponseHeader("X-Palier-Version") || "", 10);
    forget(qid);
    if (!isNaN(version)) state.base[qid] = version;
    focusField(qid);
  }

  function reapply(qid, version) {
    removeAlert("autosave-conflict-" + qid);
    if (!isNaN(version)) state.base[qid] = version;
    touch(qid);
    enqueue(qid);
    focusField(qid);
  }

  /* ---- events ------------------------------------------------------------------------- */

  document.addEventListener("input", function (event) {
    var el = event.target;
    var qid = questionOf(el);
    if (qid === null || !isTextual(el)) return;
    touch(qid);
    clearTimeout(state.timers[qid]);
    state.timers[qid] = setTimeout(function () { enqueue(qid); }, DEBOUNCE_MS);
  });

  document.addEventListener("change", function (event) {
    var el = event.target;
    var qid = questionOf(el);
    if (qid === null) return;
    if (!isTextual(el)) touch(qid);
    else if (!state.unsaved[qid] && !state.timers[qid]) return;  // nothing new since save
    enqueue(qid);
  });

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var action = target && target.closest("[data-autosave-action]");
    if (action) {
      var kind = action.getAttribute("data-autosave-action");
      var qid = action.getAttribute("data-question");
      if (kind === "retry") retry(state.paused === "auth" || state.paused === "forbidden");
      else if (kind === "reapply") reapply(qid, parseInt(action.getAttribute("data-version"), 10));
      else if (kind === "dismiss") removeAlert("autosave-failure");
      return;  // "keep" is an hx-get
    }
    // Leaving by a link: save what is pending first.
    var link = target && target.closest("a[href]");
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey ||
        event.ctrlKey || event.shiftKey || event.altKey || link.target === "_blank" ||
        link.hasAttribute("download") || link.origin !== location.origin ||
        link.getAttribute("href").charAt(0) === "#") return;
    if (!hasUnsaved() || state.paused === "closed") return;  // closed: nothing can be saved
    event.preventDefault();
    whenSettled().then(function (ok) {
      if (ok && !hasUnsaved()) location.href = link.href;
      else focusFirstAlert();
    });
  });

  form.addEventListener("submit", function (event) {
    if (state.submitting) return;
    if (!hasPending() && !state.paused && !hasConflict()) {
      state.submitting = true;
      return;
    }
    event.preventDefault();
    whenSettled().then(function (ok) {
      if (ok) {
        state.submitting = true;
        form.submit();
      } else {
        focusFirstAlert();
      }
    });
  });

  window.addEventListener("beforeunload", function (event) {
    if (state.submitting || !hasUnsaved() || state.paused === "closed") return;
    event.preventDefault();
    event.returnValue = "";
  });

  window.addEventListener("online", function () {
    if (state.paused === "offline" || state.paused === "error") retry(false);
  });
})();
