// posthub — the scheduling board (/manage/board).
//
// Choice of parts: hand-written pointer-event and keyboard code over our own DOM
// (absolutely placed <div>s in each resource's lane), not a timeline library such as
// vis-timeline. The board's rules are posthub's own: a day shows only the site's
// displayed hours, times are the site's wall-clock from the embedded tz database (the
// page sends the zone's offsets; the browser's tz data may be older than Morocco's
// 2026 change), a booking may only go to a resource of the same kind, holds stack by
// rank, a drop is previewed against the board's bookings and blocks and the site's
// working time, and the API has the last word. A library would have to be bent to
// each of these, would bring a few hundred kilobytes to vendor, pin and refresh, and
// its drag code would be harder to drive from the chromedp tests than plain pointer
// events. The pages' CSP allows no inline style or script: positions are set through
// the CSSOM (element.style), which it allows, and the data comes in a JSON block.
//
// Every change goes through the API with the session cookie and the X-CSRF-Token
// header: PATCH /api/v1/bookings/{id} to move or resize (If-Match: the version shown),
// POST /api/v1/bookings for a new hold, POST …/confirm|release|decline from a bar's
// actions. A refused move snaps back and shows the clashing intervals the API names.
// GET /api/v1/events keeps the board live.
(function () {
  "use strict";

  var dataEl = document.getElementById("board-data");
  var board = document.getElementById("board");
  if (!dataEl || !board) {
    return;
  }
  var D = JSON.parse(dataEl.textContent);
  var M = D.messages || {};
  var csrf = board.getAttribute("data-csrf") || "";
  var days = D.days;
  var N = days.length;
  var MIN = 60000, HOUR = 3600000, DAY = 86400000;
  // step is what a move snaps to and an arrow key moves by; rstep what an edge does.
  var step = D.step_min * MIN;
  var rstep = Math.min(step, HOUR);
  var ACTIVE = { hold: true, confirmed: true, completed: true };

  var statusEl = document.getElementById("board-status");
  var tipEl = document.getElementById("board-tip");
  var menuEl = document.getElementById("board-menu");
  var undoBtn = document.getElementById("board-undo");
  var liveEl = document.getElementById("board-live");
  var axisEl = document.getElementById("board-axis");
  var createEl = document.getElementById("board-create");
  var prodSelect = document.getElementById("board-production");

  // ---- State -------------------------------------------------------------------

  var store = new Map(); // booking id → booking
  var blocksBy = new Map(); // resource id → [{start, end, kind, title}], merged
  var resources = new Map(); // resource id → {id, name, kind}
  var order = []; // resource ids, top to bottom
  var lanes = new Map(); // resource id → lane element
  var busy = new Set(); // bookings with a request in flight
  var fresh = new Map(); // booking id → until when it is marked as changed by someone else
  var clashes = []; // [{resource_id, start, end, kind, until}]
  var undo = null; // the last move: {id, before, after}
  var pending = null; // a keyboard move: {id, from, to, start, end}
  var drag = null;

  D.resources.forEach(function (r) {
    resources.set(r.id, r);
    order.push(r.id);
  });
  document.querySelectorAll(".board-row").forEach(function (row) {
    lanes.set(row.getAttribute("data-resource"), row.querySelector(".board-lane"));
  });
  D.blocks.forEach(function (b) {
    var list = blocksBy.get(b.resource_id) || [];
    list.push({ start: b.start, end: b.end, kind: b.kind, title: b.title });
    blocksBy.set(b.resource_id, list);
  });
  blocksBy.forEach(function (list, id) {
    list.sort(function (a, b) { return a.start - b.start; });
    var merged = [];
    list.forEach(function (b) {
      var last = merged[merged.length - 1];
      if (last && b.start <= last.end) {
        last.end = Math.max(last.end, b.end);
        last.title += "; " + b.title;
      } else {
        merged.push({ start: b.start, end: b.end, kind: b.kind, title: b.title });
      }
    });
    blocksBy.set(id, merged);
  });

  function ms(v) {
    if (v === null || v === undefined || v === "") {
      return null;
    }
    return typeof v === "number" ? v : Date.parse(v);
  }

  // norm reads a booking from the page or the API.
  function norm(b) {
    return {
      id: b.id, production_id: b.production_id, site_id: b.site_id || D.site.id, status: b.status,
      start: ms(b.start), end: ms(b.end),
      resources: (b.resources || []).map(function (r) { return { resource_id: r.resource_id, rank: r.rank || 0 }; }),
      approval_pending: !!b.approval_pending, challenge: b.challenge || null, challenged_by: b.challenged_by || [],
      overtime: !!b.overtime, version: b.version || 0,
      requested_start: ms(b.requested_start), requested_end: ms(b.requested_end),
      requested_resource_ids: b.requested_resource_ids || []
    };
  }

  function onBoard(b) {
    return b.site_id === D.site.id && ACTIVE[b.status] && b.end > D.from && b.start < D.to;
  }

  // put keeps a booking as the API last told it, unless what is kept is newer.
  function put(b) {
    var cur = store.get(b.id);
    if (cur && cur.version > b.version) {
      return false;
    }
    if (onBoard(b)) {
      store.set(b.id, b);
    } else {
      store.delete(b.id);
    }
    return true;
  }

  D.bookings.forEach(function (b) { put(norm(b)); });

  // ---- Time and words ----------------------------------------------------------

  function offAt(t) {
    var o = D.offsets.length ? D.offsets[0][1] : 0;
    for (var i = 0; i < D.offsets.length; i++) {
      if (t >= D.offsets[i][0]) {
        o = D.offsets[i][1];
      } else {
        break;
      }
    }
    return o * 1000;
  }
  // wall is the site's wall-clock at t, to read with getUTC*.
  function wall(t) { return new Date(t + offAt(t)); }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function hm(t) {
    var d = wall(t);
    return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }
  function dateLabel(t) {
    var d = wall(t);
    return M["day_" + d.getUTCDay()] + " " + d.getUTCDate() + " " + M["month_" + (d.getUTCMonth() + 1)];
  }
  function localDate(t) { return wall(t).toISOString().slice(0, 10); }
  function span(s, e) {
    if (localDate(s) === localDate(e - 1)) {
      return dateLabel(s) + ", " + hm(s) + "–" + hm(e);
    }
    return dateLabel(s) + ", " + hm(s) + " – " + dateLabel(e) + ", " + hm(e);
  }
  function hours(v) {
    var h = Math.round(v / HOUR * 10) / 10;
    return String(h).replace(".", M.num_decimal || ".") + " h";
  }
  function iso(t) { return new Date(t).toISOString().replace(".000Z", "Z"); }
  // fmt fills a message's %s and %d in order.
  function fmt(key) {
    var args = Array.prototype.slice.call(arguments, 1);
    var i = 0;
    return (M[key] || key).replace(/%[sd]/g, function () { return String(args[i++]); });
  }
  function title(b) { return D.productions[b.production_id] || "…"; }
  function resName(id) { var r = resources.get(id); return r ? r.name : "?"; }
  function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }

  // moveBy shifts an instant; a whole number of days keeps the wall-clock time.
  function moveBy(t, delta) {
    var r = t + delta;
    if (delta % DAY === 0) {
      r += offAt(t) - offAt(r);
    }
    return r;
  }
  // snapTo rounds an instant to the wall-clock step.
  function snapTo(t, st) {
    var o = offAt(t);
    return Math.round((t + o) / st) * st - o;
  }

  // ---- Geometry: an instant's place on a lane, as a fraction of its width -------

  function fx(t) {
    if (t <= days[0].start) {
      return 0;
    }
    for (var i = 0; i < N; i++) {
      var d = days[i];
      if (t < d.start) {
        return i / N;
      }
      if (t <= d.end) {
        return (i + (t - d.start) / (d.end - d.start)) / N;
      }
    }
    return 1;
  }
  function tx(f) {
    f = clamp(f, 0, 1);
    var i = Math.min(N - 1, Math.floor(f * N));
    var d = days[i];
    return d.start + clamp(f * N - i, 0, 1) * (d.end - d.start);
  }
  function place(el, s, e) {
    var a = fx(s), z = fx(e);
    el.style.left = (a * 100).toFixed(4) + "%";
    el.style.width = (Math.max(z - a, 0) * 100).toFixed(4) + "%";
  }
  // timeAt is the instant under a horizontal position, read on a lane that shows (all
  // lanes span the same times).
  function timeAt(clientX, lane) {
    var r = lane.getBoundingClientRect();
    if (!r.width) {
      lanes.forEach(function (l) {
        var q = l.getBoundingClientRect();
        if (!r.width && q.width) {
          r = q;
        }
      });
    }
    return r.width ? tx((clientX - r.left) / r.width) : days[0].start;
  }
  function rowAt(clientY) {
    var found = null;
    lanes.forEach(function (lane, id) {
      var r = lane.getBoundingClientRect();
      if (r.height > 0 && clientY >= r.top && clientY < r.bottom) {
        found = id;
      }
    });
    return found;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) {
      e.className = cls;
    }
    if (text !== undefined) {
      e.textContent = text;
    }
    return e;
  }

  // ---- Drawing -----------------------------------------------------------------

  function drawAxis() {
    axisEl.textContent = "";
    var today = localDate(D.now);
    days.forEach(function (d, i) {
      var cls = "axis-day";
      if (d.closed) { cls += " closed"; }
      if (d.holiday) { cls += d.provisional ? " holiday provisional" : " holiday"; }
      if (d.date === today) { cls += " today"; }
      if (d.wd === 1) { cls += " monday"; }
      var c = el("div", cls);
      c.style.left = (i / N * 100) + "%";
      c.style.width = (100 / N) + "%";
      c.appendChild(el("span", "axis-label", D.zoom === "month" ? d.label : d.long));
      if (d.holiday) {
        c.title = d.holiday;
        c.appendChild(el("span", "axis-holiday", d.holiday));
      }
      if (D.zoom === "day" || D.zoom === "week") {
        var every = D.zoom === "day" ? HOUR : 4 * HOUR;
        for (var t = snapTo(d.start, HOUR); t < d.end; t += HOUR) {
          if (t < d.start || (D.zoom === "week" && t === d.start) || (t - snapTo(d.midnight, HOUR)) % every !== 0) {
            continue;
          }
          var tick = el("span", "tick", D.zoom === "day" ? hm(t) : hm(t).slice(0, 2));
          tick.style.left = ((t - d.start) / (d.end - d.start) * 100) + "%";
          c.appendChild(tick);
        }
      }
      axisEl.appendChild(c);
    });
  }

  // laneBackground is what every lane shows behind its bookings: days, closed time,
  // holidays, hour lines in the day view, and now.
  function laneBackground() {
    var bg = el("div", "lane-bg");
    days.forEach(function (d, i) {
      var col = el("div", "lane-day" + (d.wd === 1 ? " monday" : ""));
      col.style.left = (i / N * 100) + "%";
      col.style.width = (100 / N) + "%";
      bg.appendChild(col);
      if (d.holiday) {
        var h = el("div", "shade " + (d.provisional ? "provisional" : "holiday"));
        h.style.left = (i / N * 100) + "%";
        h.style.width = (100 / N) + "%";
        h.title = d.holiday;
        bg.appendChild(h);
        if (!d.provisional) {
          return;
        }
      }
      // Closed time: the displayed hours less the working time.
      var t = d.start;
      D.working.forEach(function (w) {
        var a = Math.max(w[0], d.start), z = Math.min(w[1], d.end);
        if (a >= z) {
          return;
        }
        if (a > t) {
          var c = el("div", "shade closed");
          place(c, t, a);
          bg.appendChild(c);
        }
        t = Math.max(t, z);
      });
      if (t < d.end) {
        var c = el("div", "shade closed");
        place(c, t, d.end);
        bg.appendChild(c);
      }
      if (D.zoom === "day") {
        for (var x = snapTo(d.start, HOUR) + HOUR; x < d.end; x += HOUR) {
          var line = el("div", "hour-line");
          line.style.left = (fx(x) * 100) + "%";
          bg.appendChild(line);
        }
      }
    });
    if (D.now > D.from && D.now < D.to) {
      var now = el("div", "now-line");
      now.style.left = (fx(D.now) * 100) + "%";
      bg.appendChild(now);
    }
    return bg;
  }

  function drawBackgrounds() {
    var bg = laneBackground();
    lanes.forEach(function (lane, id) {
      lane.textContent = "";
      var mine = bg.cloneNode(true);
      (blocksBy.get(id) || []).forEach(function (b) {
        var s = el("div", "shade block block-" + b.kind);
        place(s, b.start, b.end);
        s.title = b.title + " — " + span(b.start, b.end);
        mine.appendChild(s);
      });
      lane.appendChild(mine);
    });
  }

  function movable(b) {
    return D.editable && (b.status === "hold" || b.status === "confirmed") && b.end > Date.now() && !busy.has(b.id);
  }

  function describe(b, r) {
    var parts = [title(b), M["status_" + b.status] || b.status];
    if (b.status === "hold") {
      parts.push(fmt("rank", r.rank || b.rank || 1));
    }
    if (b.approval_pending) { parts.push(M["approval_pending"]); }
    if (b.challenge) {
      var cd = ms(b.challenge.deadline);
      parts.push(fmt("challenging", dateLabel(cd) + ", " + hm(cd)));
    }
    if (b.challenged_by && b.challenged_by.length) {
      var dl = ms(b.challenged_by[0].deadline);
      parts.push(fmt("challenged", dateLabel(dl) + ", " + hm(dl)));
    }
    if (b.overtime) { parts.push(M["overtime"]); }
    parts.push(span(b.start, b.end));
    parts.push(resName(r.resource_id));
    return parts.join(" — ");
  }

  function barEl(b, r) {
    var cls = "board-bar status-" + b.status;
    if (b.approval_pending) { cls += " pending"; }
    if (b.overtime) { cls += " overtime"; }
    if (busy.has(b.id)) { cls += " saving"; }
    if (fresh.has(b.id)) { cls += " fresh"; }
    if (b.challenge || (b.challenged_by && b.challenged_by.length)) { cls += " challenge"; }
    if (b.status === "hold" && r.rank > 1) { cls += " rank-" + Math.min(r.rank, 4); }
    if (pending && pending.id === b.id && pending.from === r.resource_id) { cls += " moving"; }
    var e = el("div", cls);
    e.tabIndex = 0;
    e.setAttribute("role", "button");
    e.setAttribute("aria-haspopup", "menu");
    e.setAttribute("data-booking", b.id);
    e.setAttribute("data-resource", r.resource_id);
    e.setAttribute("data-start", iso(b.start));
    e.setAttribute("data-end", iso(b.end));
    e.setAttribute("data-status", b.status);
    e.setAttribute("data-version", String(b.version));
    if (b.status === "hold") {
      e.setAttribute("data-rank", String(r.rank || 1));
    }
    e.setAttribute("data-key", b.id + "/" + r.resource_id);
    var label = describe(b, r);
    e.setAttribute("aria-label", label);
    e.title = label;
    place(e, b.start, b.end);
    if (b.status === "hold") {
      e.appendChild(el("span", "rank", "#" + (r.rank || 1)));
    }
    if (b.challenge || (b.challenged_by && b.challenged_by.length)) {
      e.appendChild(el("span", "flag", "⚑"));
    }
    e.appendChild(el("span", "name", title(b)));
    if (movable(b)) {
      e.appendChild(el("span", "h-start"));
      e.appendChild(el("span", "h-end"));
      e.classList.add("movable");
    }
    return e;
  }

  // update makes the element e read as its fresh rendering n: attributes set or
  // removed, the content replaced only when it differs.
  function update(e, n) {
    if (e.isEqualNode(n)) {
      return;
    }
    Array.from(e.attributes).forEach(function (a) {
      if (!n.hasAttribute(a.name)) {
        e.removeAttribute(a.name);
      }
    });
    Array.from(n.attributes).forEach(function (a) {
      if (e.getAttribute(a.name) !== a.value) {
        e.setAttribute(a.name, a.value);
      }
    });
    if (e.innerHTML !== n.innerHTML) {
      e.replaceChildren.apply(e, Array.from(n.childNodes));
    }
  }

  // previousBar is the bar before e in its lane, or null.
  function previousBar(e) {
    for (var x = e.previousElementSibling; x; x = x.previousElementSibling) {
      if (x.classList.contains("board-bar")) {
        return x;
      }
    }
    return null;
  }

  // follow is the bar that should have the focus once drawn: a focused booking that
  // moved to another row keeps the focus there.
  var follow = null;
  function drawBars() {
    var active = document.activeElement;
    var key = active && active.getAttribute && active.getAttribute("data-key");
    if (follow && (!active || active === document.body || key)) {
      key = follow;
    }
    // Bars already on the board are kept and brought up to date in place, so that an
    // update elsewhere (a colleague's move, a highlight fading) does not take a bar
    // from under the pointer or the focus; only bars that went away are removed, and
    // a kept bar moves in the document only when its place in the start order changed.
    var now = Date.now();
    fresh.forEach(function (until, id) {
      if (until < now) { fresh.delete(id); }
    });
    var list = Array.from(store.values()).sort(function (a, b) { return a.start - b.start || (a.id < b.id ? -1 : 1); });
    var want = [];
    list.forEach(function (b) {
      b.resources.forEach(function (r) {
        var lane = lanes.get(r.resource_id);
        if (lane) {
          want.push({ lane: lane, bar: barEl(b, r) });
        }
      });
    });
    var keys = new Set(want.map(function (w) { return w.bar.getAttribute("data-key"); }));
    var old = new Map();
    lanes.forEach(function (lane) {
      lane.querySelectorAll(".clash, .requested").forEach(function (x) { x.remove(); });
      lane.querySelectorAll(".board-bar").forEach(function (x) {
        var k = x.getAttribute("data-key");
        if (keys.has(k) && !old.has(k)) {
          old.set(k, x);
        } else {
          x.remove();
        }
      });
    });
    var last = new Map(); // lane → the bar placed last in it
    want.forEach(function (w) {
      var k = w.bar.getAttribute("data-key"), e = old.get(k), prev = last.get(w.lane) || null;
      if (e && e.parentNode !== w.lane) {
        e.remove();
        e = null;
      }
      if (e) {
        update(e, w.bar);
      } else {
        e = w.bar;
      }
      if (!e.parentNode || previousBar(e) !== prev) {
        if (prev) {
          prev.after(e);
        } else {
          w.lane.insertBefore(e, w.lane.querySelector(".board-bar"));
        }
      }
      last.set(w.lane, e);
    });
    // A requested move awaiting approval: where the booking would go, outlined.
    list.forEach(function (b) {
      if (!b.requested_start || !b.requested_end) {
        return;
      }
      var rids = b.requested_resource_ids.length ? b.requested_resource_ids : b.resources.map(function (r) { return r.resource_id; });
      rids.forEach(function (id) {
        var lane = lanes.get(id);
        if (!lane) {
          return;
        }
        var x = el("div", "requested");
        place(x, b.requested_start, b.requested_end);
        x.title = fmt("requested", title(b), span(b.requested_start, b.requested_end));
        x.setAttribute("data-booking", b.id);
        lane.appendChild(x);
      });
    });
    clashes = clashes.filter(function (c) { return c.until > now; });
    clashes.forEach(function (c) {
      var lane = lanes.get(c.resource_id);
      if (!lane) {
        return;
      }
      var x = el("div", "clash");
      place(x, c.start, c.end);
      x.title = fmt(c.kind === "block" ? "clash_block" : c.kind === "hold" ? "clash_hold" : "clash", span(c.start, c.end));
      x.appendChild(el("span", "clash-label", span(c.start, c.end)));
      lane.appendChild(x);
    });
    if (key) {
      var again = board.querySelector('.board-bar[data-key="' + key + '"]');
      if (again && document.activeElement !== again) {
        again.focus({ preventScroll: true });
      }
      if (again && key === follow) {
        follow = null;
      }
    }
    if (pending) {
      showPending();
    }
  }

  var frame = 0;
  function render() {
    if (frame) {
      return;
    }
    frame = requestAnimationFrame(function () {
      frame = 0;
      drawBars();
    });
  }

  // ---- Messages ------------------------------------------------------------------

  var statusTimer = 0;
  function say(text, kind) {
    statusEl.textContent = text;
    statusEl.className = "board-status" + (kind ? " " + kind : "");
    clearTimeout(statusTimer);
    if (kind !== "error") {
      statusTimer = setTimeout(function () {
        if (statusEl.textContent === text) {
          statusEl.textContent = "";
          statusEl.className = "board-status";
        }
      }, 12000);
    }
  }

  // ---- Previews: would it clash, and what would it cost in working time ----------

  // workingIn is the working time of the resource in [s, e): the site's working
  // time less the resource's blocks (calendar.UseOf's Working).
  function workingIn(resId, s, e) {
    var total = 0;
    var blocks = blocksBy.get(resId) || [];
    D.working.forEach(function (w) {
      var a = Math.max(w[0], s), z = Math.min(w[1], e);
      if (a >= z) {
        return;
      }
      total += z - a;
      blocks.forEach(function (b) {
        var a2 = Math.max(a, b.start), z2 = Math.min(z, b.end);
        if (a2 < z2) {
          total -= z2 - a2;
        }
      });
    });
    return total;
  }

  // assess checks [s, e) on the resources against the bookings on the board and the
  // resources' blocks: confirmed bookings and blocks that the interval starts or ends
  // in clash; holds queue; a block wholly inside is a pause.
  function assess(b, resIds, s, e) {
    var out = { clashes: [], holds: 0, pauses: 0 };
    store.forEach(function (o) {
      if (b && o.id === b.id) {
        return;
      }
      if (o.start >= e || s >= o.end) {
        return;
      }
      o.resources.forEach(function (r) {
        if (resIds.indexOf(r.resource_id) < 0) {
          return;
        }
        if (o.status === "hold") {
          out.holds++;
        } else {
          out.clashes.push({ resource_id: r.resource_id, start: o.start, end: o.end, kind: "booking" });
        }
      });
    });
    resIds.forEach(function (id) {
      (blocksBy.get(id) || []).forEach(function (k) {
        if (k.start >= e || s >= k.end) {
          return;
        }
        if (k.start > s && k.end < e) {
          out.pauses++;
        } else {
          out.clashes.push({ resource_id: id, start: k.start, end: k.end, kind: "block" });
        }
      });
    });
    return out;
  }

  // preview is the words shown before a drop: where, clashes, working time.
  function preview(b, resId, resIds, s, e, compatible) {
    var lines = [span(s, e) + " · " + resName(resId)];
    var ok = true;
    if (!compatible) {
      lines.push(M["other_kind"]);
      return { ok: false, text: lines.join("\n") };
    }
    var a = assess(b, resIds, s, e);
    a.clashes.slice(0, 3).forEach(function (c) {
      ok = false;
      lines.push(fmt(c.kind === "block" ? "clash_block" : "clash", resName(c.resource_id) + ", " + span(c.start, c.end)));
    });
    var w = workingIn(resId, s, e);
    var line = fmt("working", hours(w));
    if (b) {
      var from = b.resources.length ? b.resources[0].resource_id : resId;
      if (drag && drag.from) { from = drag.from; }
      if (pending && pending.id === b.id) { from = pending.from; }
      line += " " + fmt("working_was", hours(workingIn(from, b.start, b.end)));
    }
    lines.push(line);
    var closed = (e - s) - w;
    if (w === 0 && !(b && b.overtime)) {
      ok = false;
      lines.push(M["no_working"]);
    } else if (closed > 0 && !(b && b.overtime)) {
      lines.push(fmt("closed_part", hours(closed)));
    }
    if (a.holds > 0 && (!b || b.status === "hold")) {
      lines.push(fmt("queue", a.holds));
    }
    if (a.pauses > 0) {
      lines.push(M["pauses"]);
    }
    return { ok: ok, text: lines.join("\n") };
  }

  var ghost = null;
  function showGhost(resId, s, e, state) {
    var lane = lanes.get(resId);
    if (!lane) {
      hideGhost();
      return null;
    }
    if (!ghost) {
      ghost = el("div", "ghost");
      ghost.setAttribute("aria-hidden", "true");
    }
    ghost.className = "ghost " + state;
    place(ghost, s, e);
    if (ghost.parentNode !== lane) {
      lane.appendChild(ghost);
    }
    return ghost;
  }
  function hideGhost() {
    if (ghost && ghost.parentNode) {
      ghost.parentNode.removeChild(ghost);
    }
    tipEl.hidden = true;
  }
  function showTip(text, ok, anchor) {
    tipEl.textContent = text;
    tipEl.className = "board-tip " + (ok ? "ok" : "conflict");
    tipEl.hidden = false;
    var r = anchor.getBoundingClientRect();
    var top = r.bottom + window.scrollY + 6;
    var left = Math.max(8, Math.min(r.left + window.scrollX, window.scrollX + document.documentElement.clientWidth - tipEl.offsetWidth - 8));
    tipEl.style.top = top + "px";
    tipEl.style.left = left + "px";
  }

  // ---- The API -------------------------------------------------------------------

  function api(method, path, body, version) {
    var headers = { "Accept": "application/json" };
    if (method !== "GET") {
      headers["X-CSRF-Token"] = csrf;
    }
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
    }
    if (version) {
      headers["If-Match"] = '"' + version + '"';
    }
    return fetch(path, { method: method, headers: headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (res) {
        return res.text().then(function (text) {
          var json = null;
          try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
          return { ok: res.ok, status: res.status, body: json };
        });
      }, function () {
        return { ok: false, status: 0, body: { detail: M["failed"] } };
      });
  }

  // refused shows why the API said no, and the clashing intervals it named.
  function refused(res) {
    var p = res.body || {};
    // The code in the page's language, then the hub's own explanation (as the other
    // pages word a refusal); an internal error is never detailed.
    var text = M["refused"] + " " + (M["error_" + p.code] || "") + (p.code === "internal" ? "" : " " + (p.detail || ""));
    var cs = (p.details && p.details.conflicts) || [];
    var until = Date.now() + 15000;
    cs.forEach(function (c) {
      var s = ms(c.start), e = ms(c.end);
      clashes.push({ resource_id: c.resource_id, start: s, end: e, kind: c.kind, until: until });
      text += " " + fmt(c.kind === "block" ? "clash_block" : c.kind === "hold" ? "clash_hold" : "clash", resName(c.resource_id) + ", " + span(s, e));
    });
    if (res.status === 412) {
      text = M["stale"];
    }
    say(text.trim(), "error");
    if (cs.length) {
      setTimeout(render, 15100);
    }
  }

  // move asks the API to put the booking at [s, e) on the resources; the bar goes
  // there at once and back if the API refuses.
  function move(b, ids, s, e, after) {
    var before = store.get(b.id);
    var sameRes = ids.join() === before.resources.map(function (r) { return r.resource_id; }).join();
    var body = { start: iso(s), end: iso(e) };
    if (!sameRes) {
      body.resource_ids = ids;
    }
    var moved = Object.assign({}, before, {
      start: s, end: e,
      resources: ids.map(function (id) {
        var old = before.resources.filter(function (r) { return r.resource_id === id; })[0];
        return { resource_id: id, rank: old ? old.rank : 0 };
      })
    });
    // The focus follows the booking to its new row, and back if refused.
    var active = document.activeElement;
    var activeKey = (active && active.getAttribute && active.getAttribute("data-key")) || "";
    var origKey = null, newKey = null;
    if (activeKey.indexOf(b.id + "/") === 0) {
      var k = before.resources.map(function (r) { return r.resource_id; }).indexOf(activeKey.slice(b.id.length + 1));
      if (k >= 0 && ids[k]) {
        origKey = activeKey;
        newKey = b.id + "/" + ids[k];
        follow = newKey;
      }
    }
    store.set(b.id, moved);
    busy.add(b.id);
    clashes = [];
    say(M["saving"], "info");
    render();
    return api("PATCH", "/api/v1/bookings/" + b.id, body, before.version).then(function (res) {
      busy.delete(b.id);
      if (res.ok) {
        var nb = norm(res.body);
        store.set(b.id, before); // so that put compares with the version asked from
        put(nb);
        after(res, nb);
        refreshResources(before.resources.map(function (r) { return r.resource_id; }).concat(ids));
      } else {
        store.set(b.id, before);
        if (origKey) {
          follow = origKey;
        }
        refused(res);
        if (res.status === 412 || res.status === 404) {
          refreshBooking(b.id);
        }
      }
      render();
      return res;
    });
  }

  function moveAndRemember(b, ids, s, e) {
    var was = store.get(b.id);
    var before = { start: was.start, end: was.end, ids: was.resources.map(function (r) { return r.resource_id; }) };
    return move(b, ids, s, e, function (res, nb) {
      // A move asked for, not made (202), has nothing to undo.
      if (res.status === 200) {
        undo = { id: b.id, before: before, after: { start: nb.start, end: nb.end, ids: ids } };
        undoBtn.hidden = false;
      }
      var msg = res.status === 202 ? M["moved_request"] : fmt("moved", title(nb), span(nb.start, nb.end), ids.map(resName).join(", "));
      say(msg, "ok");
    });
  }

  function doUndo() {
    if (!undo) {
      say(M["nothing_to_undo"], "info");
      return;
    }
    var u = undo;
    var b = store.get(u.id);
    if (!b) {
      undo = null;
      undoBtn.hidden = true;
      say(M["nothing_to_undo"], "info");
      return;
    }
    undo = null;
    undoBtn.hidden = true;
    move(b, u.before.ids, u.before.start, u.before.end, function (res, nb) {
      say(fmt("undone", title(nb), span(nb.start, nb.end)), "ok");
    }).then(function (res) {
      if (!res.ok) {
        undo = u; // still there to try again
        undoBtn.hidden = false;
      }
    });
  }
  undoBtn.addEventListener("click", doUndo);

  function act(b, action) {
    b = store.get(b.id) || b;
    busy.add(b.id);
    render();
    say(M["saving"], "info");
    api("POST", "/api/v1/bookings/" + b.id + "/" + action, undefined, b.version).then(function (res) {
      busy.delete(b.id);
      if (res.ok) {
        var nb = norm(res.body);
        put(nb);
        say(fmt("acted", title(nb), M["status_" + nb.status] || nb.status), "ok");
        refreshResources(b.resources.map(function (r) { return r.resource_id; }));
        if (undo && undo.id === b.id && !store.has(b.id)) {
          undo = null;
          undoBtn.hidden = true;
        }
      } else {
        refused(res);
      }
      render();
    });
  }

  function create(prod, resId, s, e) {
    say(M["saving"], "info");
    return api("POST", "/api/v1/bookings", { production_id: prod, resource_ids: [resId], start: iso(s), end: iso(e), status: "hold" }).then(function (res) {
      if (res.ok) {
        var nb = norm(res.body);
        put(nb);
        var r = nb.resources[0] || { rank: 1 };
        say(fmt("placed", title(nb), span(nb.start, nb.end), r.rank || 1), "ok");
        refreshResources([resId]);
      } else {
        refused(res);
      }
      render();
      return res;
    });
  }

  // refreshBooking reads one booking again (its ranks, its challenges).
  function refreshBooking(id) {
    return api("GET", "/api/v1/bookings/" + id).then(function (res) {
      if (res.ok) {
        var nb = norm(res.body);
        var cur = store.get(id);
        if (!cur || cur.version <= nb.version) {
          put(nb);
        }
      } else if (res.status === 404) {
        store.delete(id);
      }
      render();
    });
  }

  // refreshResources reads again the holds on resources, whose ranks a change moves.
  var refreshQueue = new Set();
  var refreshTimer = 0;
  function refreshResources(ids) {
    ids.forEach(function (id) { refreshQueue.add(id); });
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      var list = Array.from(refreshQueue);
      refreshQueue.clear();
      list.forEach(function (id) {
        var q = "site_id=" + encodeURIComponent(D.site.id) + "&resource_id=" + encodeURIComponent(id) +
          "&from=" + encodeURIComponent(iso(D.from)) + "&to=" + encodeURIComponent(iso(D.to)) + "&status=hold&limit=500";
        api("GET", "/api/v1/bookings?" + q).then(function (res) {
          if (res.ok && res.body && res.body.items) {
            res.body.items.forEach(function (x) {
              var nb = norm(x);
              if (!busy.has(nb.id)) {
                put(nb);
              }
            });
            render();
          }
        });
      });
    }, 150);
  }

  // ---- Pointer: drag to move or resize, drag on empty time to draw a hold -------

  board.addEventListener("pointerdown", function (ev) {
    if (ev.button !== 0) {
      return;
    }
    var lane = ev.target.closest(".board-lane");
    if (!lane) {
      return;
    }
    closeMenu();
    var bar = ev.target.closest(".board-bar");
    var row = lane.parentNode.getAttribute("data-resource");
    if (bar) {
      var b = store.get(bar.getAttribute("data-booking"));
      if (!b) {
        return;
      }
      bar.focus({ preventScroll: true });
      var mode = ev.target.classList.contains("h-start") ? "start" : ev.target.classList.contains("h-end") ? "end" : "move";
      drag = { mode: movable(b) ? mode : "none", b: b, bar: bar, from: row, lane: lane, x0: ev.clientX, y0: ev.clientY, t0: timeAt(ev.clientX, lane), started: false };
    } else if (D.editable) {
      drag = { mode: "create", from: row, lane: lane, x0: ev.clientX, y0: ev.clientY, t0: timeAt(ev.clientX, lane), started: false };
    } else {
      return;
    }
    drag.pointer = ev.pointerId;
    try { board.setPointerCapture(ev.pointerId); } catch (e) { /* a synthetic pointer */ }
    ev.preventDefault();
  });

  // candidate is where the drag would put things now.
  function candidate(ev) {
    var t = timeAt(ev.clientX, drag.lane);
    var c = { res: drag.from, compatible: true };
    if (drag.mode === "create") {
      var a = snapTo(Math.min(drag.t0, t), rstep), z = snapTo(Math.max(drag.t0, t), rstep);
      if (z - a < rstep) {
        z = a + rstep;
      }
      c.s = a;
      c.e = z;
      c.ids = [drag.from];
      return c;
    }
    var b = drag.b;
    if (drag.mode === "move") {
      var delta = Math.round((t - drag.t0) / step) * step;
      c.s = moveBy(b.start, delta);
      c.e = moveBy(b.end, delta);
      var row = rowAt(ev.clientY);
      if (row && row !== drag.from) {
        if (resources.get(row).kind === resources.get(drag.from).kind && b.resources.every(function (r) { return r.resource_id !== row; })) {
          c.res = row;
        } else if (resources.get(row).kind !== resources.get(drag.from).kind) {
          c.res = row;
          c.compatible = false;
        }
      }
    } else if (drag.mode === "start") {
      c.s = Math.min(snapTo(t, rstep), b.end - rstep);
      c.e = b.end;
    } else {
      c.s = b.start;
      c.e = Math.max(snapTo(t, rstep), b.start + rstep);
    }
    c.ids = b.resources.map(function (r) { return r.resource_id === drag.from ? c.res : r.resource_id; });
    return c;
  }

  board.addEventListener("pointermove", function (ev) {
    if (!drag || drag.mode === "none") {
      return;
    }
    if (!drag.started && Math.abs(ev.clientX - drag.x0) + Math.abs(ev.clientY - drag.y0) < 5) {
      return;
    }
    if (!drag.started) {
      drag.started = true;
      board.classList.add("dragging");
      if (drag.bar) {
        drag.bar.classList.add("lifted");
      }
    }
    var c = candidate(ev);
    drag.c = c;
    var p = preview(drag.b, c.res, c.ids, c.s, c.e, c.compatible);
    var g = showGhost(c.res, c.s, c.e, !c.compatible ? "bad" : p.ok ? "ok" : "conflict");
    if (g) {
      showTip(p.text, p.ok, g);
    }
  });

  function endDrag() {
    board.classList.remove("dragging");
    if (drag && drag.bar) {
      drag.bar.classList.remove("lifted");
    }
    hideGhost();
    drag = null;
  }

  board.addEventListener("pointerup", function (ev) {
    if (!drag) {
      return;
    }
    var d = drag;
    endDrag();
    if (!d.started) {
      if (d.bar) {
        openMenu(d.bar);
      }
      return;
    }
    var c = d.c;
    if (!c) {
      return;
    }
    if (d.mode === "create") {
      openCreate(c.res, c.s, c.e);
      return;
    }
    if (!c.compatible) {
      say(M["other_kind"], "error");
      return;
    }
    var b = store.get(d.b.id);
    if (!b || (c.s === b.start && c.e === b.end && c.res === d.from)) {
      return;
    }
    moveAndRemember(b, c.ids, c.s, c.e);
  });

  board.addEventListener("pointercancel", endDrag);

  // ---- Drawing a new hold ------------------------------------------------------

  var creating = null;
  function openCreate(resId, s, e) {
    creating = { res: resId, s: s, e: e };
    var p = preview(null, resId, [resId], s, e, true);
    document.getElementById("board-create-what").textContent = p.text;
    var sel = document.getElementById("board-create-production");
    if (prodSelect && prodSelect.value) {
      sel.value = prodSelect.value;
    }
    createEl.hidden = false;
    var g = showGhost(resId, s, e, p.ok ? "ok" : "conflict");
    var r = (g || lanes.get(resId)).getBoundingClientRect();
    createEl.style.top = (r.bottom + window.scrollY + 8) + "px";
    createEl.style.left = Math.max(8, Math.min(r.left + window.scrollX, window.scrollX + document.documentElement.clientWidth - 380)) + "px";
    tipEl.hidden = true;
    (sel.value ? document.getElementById("board-create-ok") : sel).focus();
  }
  function closeCreate() {
    createEl.hidden = true;
    creating = null;
    hideGhost();
  }
  if (createEl) {
    document.getElementById("board-create-ok").addEventListener("click", function () {
      var sel = document.getElementById("board-create-production");
      if (!creating) {
        return;
      }
      if (!sel.value) {
        say(M["choose_production"], "error");
        sel.focus();
        return;
      }
      if (prodSelect) {
        prodSelect.value = sel.value;
      }
      var c = creating;
      closeCreate();
      create(sel.value, c.res, c.s, c.e);
    });
    document.getElementById("board-create-cancel").addEventListener("click", closeCreate);
    createEl.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") {
        closeCreate();
      }
    });
  }

  // ---- Actions menu --------------------------------------------------------------

  var menuFor = null;
  function closeMenu(refocus) {
    if (menuEl.hidden) {
      return;
    }
    menuEl.hidden = true;
    menuEl.textContent = "";
    if (refocus && menuFor) {
      var again = board.querySelector('.board-bar[data-key="' + menuFor + '"]');
      if (again) {
        again.focus();
      }
    }
    menuFor = null;
  }

  function openMenu(bar, items) {
    var b = store.get(bar.getAttribute("data-booking"));
    if (!b) {
      return;
    }
    menuFor = bar.getAttribute("data-key");
    if (!items) {
      items = [];
      if (pending && pending.id === b.id) {
        items.push({ label: fmt("move_here", span(pending.start, pending.end) + " · " + resName(pending.to)), run: commitPending, cls: "primary" });
        items.push({ label: M["cancel_move"], run: cancelPending });
      }
      if (D.editable && !busy.has(b.id)) {
        if (b.status === "hold" || (b.status === "confirmed" && b.approval_pending)) {
          items.push({ label: M[b.approval_pending ? "approve" : "confirm"], run: function () { act(b, "confirm"); }, action: "confirm" });
        }
        if (b.status === "hold") {
          items.push({ label: M["release"] + "…", run: function () { sure(bar, M["release"], function () { act(b, "release"); }); }, action: "release", keep: true });
        }
        if (b.status === "hold" || b.approval_pending) {
          items.push({ label: M["decline"] + "…", run: function () { sure(bar, M["decline"], function () { act(b, "decline"); }); }, action: "decline", keep: true });
        }
      }
      if (undo && undo.id === b.id) {
        items.push({ label: M["undo"], run: doUndo, action: "undo" });
      }
      items.push({ label: M["open"], href: "/bookings/" + b.id });
    }
    menuEl.textContent = "";
    var head = el("p", "menu-head", describe(b, { resource_id: bar.getAttribute("data-resource"), rank: +bar.getAttribute("data-rank") || 0 }));
    menuEl.appendChild(head);
    menuEl.setAttribute("aria-label", fmt("menu", title(b)));
    items.forEach(function (it) {
      var x;
      if (it.href) {
        x = el("a", "menu-item", it.label);
        x.href = it.href;
      } else {
        x = el("button", "menu-item" + (it.cls ? " " + it.cls : ""), it.label);
        x.type = "button";
        x.addEventListener("click", function () {
          if (!it.keep) {
            closeMenu(true);
          }
          it.run();
        });
      }
      if (it.action) {
        x.setAttribute("data-action", it.action);
      }
      x.setAttribute("role", "menuitem");
      x.tabIndex = -1;
      menuEl.appendChild(x);
    });
    menuEl.hidden = false;
    var r = bar.getBoundingClientRect();
    menuEl.style.top = (r.bottom + window.scrollY + 4) + "px";
    menuEl.style.left = Math.max(8, Math.min(r.left + window.scrollX, window.scrollX + document.documentElement.clientWidth - menuEl.offsetWidth - 8)) + "px";
    var first = menuEl.querySelector(".menu-item");
    if (first) {
      first.focus();
    }
  }

  // sure asks again before an action that cannot be undone.
  function sure(bar, label, run) {
    openMenu(bar, [{ label: label, run: run, cls: "danger", action: "sure" }, { label: M["cancel"], run: function () {} }]);
  }

  menuEl.addEventListener("keydown", function (ev) {
    var items = Array.from(menuEl.querySelectorAll(".menu-item"));
    var i = items.indexOf(document.activeElement);
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      var n = items.length;
      items[(i + (ev.key === "ArrowDown" ? 1 : n - 1)) % n].focus();
    } else if (ev.key === "Escape" || ev.key === "Tab") {
      ev.preventDefault();
      closeMenu(true);
    } else if (ev.key === "Home") {
      ev.preventDefault();
      items[0].focus();
    } else if (ev.key === "End") {
      ev.preventDefault();
      items[items.length - 1].focus();
    }
  });
  document.addEventListener("pointerdown", function (ev) {
    if (!menuEl.hidden && !menuEl.contains(ev.target) && !ev.target.closest(".board-bar")) {
      closeMenu(false);
    }
  });

  // ---- Keyboard: arrows move, shift+arrows resize, up/down change resource ------

  function showPending() {
    var b = store.get(pending.id);
    if (!b) {
      pending = null;
      hideGhost();
      return;
    }
    var ids = b.resources.map(function (r) { return r.resource_id === pending.from ? pending.to : r.resource_id; });
    var p = preview(b, pending.to, ids, pending.start, pending.end, true);
    var g = showGhost(pending.to, pending.start, pending.end, p.ok ? "ok" : "conflict");
    if (g) {
      showTip(p.text + "\n" + M["keys"], p.ok, g);
    }
    return p;
  }

  function cancelPending() {
    pending = null;
    hideGhost();
    render();
  }

  function commitPending() {
    if (!pending) {
      return;
    }
    var p = pending;
    pending = null;
    hideGhost();
    var b = store.get(p.id);
    if (!b) {
      return;
    }
    var ids = b.resources.map(function (r) { return r.resource_id === p.from ? p.to : r.resource_id; });
    if (p.start === b.start && p.end === b.end && p.to === p.from) {
      render();
      return;
    }
    moveAndRemember(b, ids, p.start, p.end);
  }

  // nextResource is the next row of the same kind up or down that the booking is not
  // already on.
  function nextResource(b, from, dir) {
    var kind = resources.get(from).kind;
    var i = order.indexOf(from);
    for (var j = i + dir; j >= 0 && j < order.length; j += dir) {
      var id = order[j];
      var lane = lanes.get(id);
      if (resources.get(id).kind === kind && lane && lane.offsetParent !== null && b.resources.every(function (r) { return r.resource_id !== id; })) {
        return id;
      }
    }
    return from;
  }

  board.addEventListener("keydown", function (ev) {
    var bar = ev.target.closest && ev.target.closest(".board-bar");
    if (!bar) {
      return;
    }
    var b = store.get(bar.getAttribute("data-booking"));
    if (!b) {
      return;
    }
    var res = bar.getAttribute("data-resource");
    var key = ev.key;
    if ((key === "z" || key === "Z") && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      doUndo();
      return;
    }
    if (key === "Enter" || key === " ") {
      // The menu opens as the key comes up (below): opened now, the key's own press
      // would land on its first item.
      ev.preventDefault();
      enterDown = bar;
      return;
    }
    if (key === "Escape") {
      if (pending) {
        ev.preventDefault();
        cancelPending();
        say(M["cancel_move"], "info");
      }
      return;
    }
    if (["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].indexOf(key) < 0 || ev.ctrlKey || ev.metaKey) {
      return;
    }
    ev.preventDefault();
    if (!movable(b)) {
      return;
    }
    if (!pending || pending.id !== b.id || pending.from !== res) {
      pending = { id: b.id, from: res, to: res, start: b.start, end: b.end };
    }
    var dir = key === "ArrowLeft" || key === "ArrowUp" ? -1 : 1;
    if (key === "ArrowUp" || key === "ArrowDown") {
      pending.to = nextResource(b, pending.to, dir);
    } else if (ev.shiftKey && ev.altKey) {
      pending.start = Math.min(pending.start + dir * rstep, pending.end - rstep);
    } else if (ev.shiftKey) {
      pending.end = Math.max(pending.end + dir * rstep, pending.start + rstep);
    } else {
      pending.start = moveBy(pending.start, dir * step);
      pending.end = moveBy(pending.end, dir * step);
    }
    var p = showPending();
    if (p) {
      say(p.text.split("\n").join(" · "), p.ok ? "info" : "warn");
    }
  });

  var enterDown = null;
  board.addEventListener("keyup", function (ev) {
    var bar = ev.target.closest && ev.target.closest(".board-bar");
    if ((ev.key === "Enter" || ev.key === " ") && bar && bar === enterDown) {
      ev.preventDefault();
      enterDown = null;
      openMenu(bar);
    }
  });

  document.addEventListener("keydown", function (ev) {
    if ((ev.key === "z" || ev.key === "Z") && (ev.ctrlKey || ev.metaKey) && !ev.target.closest(".board-bar") &&
      !/^(INPUT|SELECT|TEXTAREA)$/.test(ev.target.tagName) && undo) {
      ev.preventDefault();
      doUndo();
    }
  });

  // ---- Groups fold -----------------------------------------------------------------

  var folded = {};
  try { folded = JSON.parse(localStorage.getItem("posthub.board.folded") || "{}"); } catch (e) { folded = {}; }
  document.querySelectorAll(".board-toggle").forEach(function (btn) {
    var rows = document.getElementById(btn.getAttribute("aria-controls"));
    var kind = btn.closest(".board-group").getAttribute("data-kind");
    function set(open) {
      btn.setAttribute("aria-expanded", open ? "true" : "false");
      rows.hidden = !open;
      btn.closest(".board-group").classList.toggle("folded", !open);
    }
    set(!folded[kind]);
    btn.addEventListener("click", function () {
      var open = btn.getAttribute("aria-expanded") !== "true";
      set(open);
      folded[kind] = !open;
      try { localStorage.setItem("posthub.board.folded", JSON.stringify(folded)); } catch (e) { /* private mode */ }
    });
  });

  // ---- Live: others' changes as they happen ---------------------------------------

  var lastEvent = D.last_event_id ? String(D.last_event_id) : "";
  var titlesAsked = {};
  function onChange(c) {
    if (c.site_id !== D.site.id) {
      return;
    }
    var cur = store.get(c.booking_id);
    if (cur && cur.version >= c.version) {
      return;
    }
    if (busy.has(c.booking_id)) {
      return; // our own request answers for it
    }
    var ranks = {};
    if (cur) {
      cur.resources.forEach(function (r) { ranks[r.resource_id] = r.rank; });
    }
    var nb = Object.assign({}, cur || { id: c.booking_id, production_id: c.production_id, site_id: c.site_id, challenged_by: [] }, {
      status: c.status, start: ms(c.start), end: ms(c.end), version: c.version,
      resources: (c.resource_ids || []).map(function (id) { return { resource_id: id, rank: ranks[id] || 0 }; })
    });
    put(nb);
    fresh.set(c.booking_id, Date.now() + 4000);
    setTimeout(render, 4100);
    if (!D.productions[c.production_id] && !titlesAsked[c.production_id]) {
      titlesAsked[c.production_id] = true;
      api("GET", "/api/v1/productions/" + c.production_id).then(function (res) {
        if (res.ok && res.body) {
          D.productions[c.production_id] = res.body.title;
          render();
        }
      });
    }
    render();
    refreshBooking(c.booking_id);
    refreshResources((cur ? cur.resources.map(function (r) { return r.resource_id; }) : []).concat(c.resource_ids || []));
  }

  function setLive(on) {
    if (!liveEl) {
      return;
    }
    liveEl.setAttribute("data-state", on ? "on" : "off");
    liveEl.textContent = M[on ? "live_on" : "live_off"];
  }

  function connect() {
    if (!window.EventSource) {
      return;
    }
    // The id goes in the address so the first connection resumes from the page's
    // data; each new connection names the last event seen.
    var es = new EventSource("/api/v1/events" + (lastEvent ? "?last_event_id=" + encodeURIComponent(lastEvent) : ""));
    es.onopen = function () { setLive(true); };
    es.addEventListener("booking", function (ev) {
      if (ev.lastEventId) {
        lastEvent = ev.lastEventId;
      }
      try {
        onChange(JSON.parse(ev.data));
      } catch (e) { /* not ours to read */ }
    });
    es.addEventListener("reset", function () {
      es.close();
      location.reload();
    });
    es.onerror = function () {
      setLive(false);
      es.close();
      setTimeout(connect, 2000);
    };
  }

  // ---- Start -----------------------------------------------------------------------

  drawAxis();
  drawBackgrounds();
  drawBars();
  board.classList.add("ready");
  connect();
})();
