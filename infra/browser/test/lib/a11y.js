// Checks run inside the page: WCAG 2.2 contrast of text and of the controls'
// boundaries, horizontal overflow, target sizes.

/**
 * Returns [{what, text, fg, bg, ratio, need}] for every visible text element in main
 * and for input borders and the focus ring, computed in the page.
 */
export async function contrastFailures(page) {
  return page.evaluate(() => {
    const rgb = (s) => {
      const m = s.match(/rgba?\(([^)]+)\)/);
      if (!m) throw new Error(`unparsed colour ${s}`);
      const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return { r, g, b, a };
    };
    const lum = ({ r, g, b }) => {
      const f = (v) => ((v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const ratio = (x, y) => {
      const [hi, lo] = [lum(x), lum(y)].sort((p, q) => q - p);
      return (hi + 0.05) / (lo + 0.05);
    };
    const over = (top, bottom) => ({
      r: top.r * top.a + bottom.r * (1 - top.a),
      g: top.g * top.a + bottom.g * (1 - top.a),
      b: top.b * top.a + bottom.b * (1 - top.a),
      a: 1,
    });
    // The background an element is drawn on: its own and its ancestors', composited.
    const background = (el) => {
      const layers = [];
      for (let e = el; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.a > 0) layers.push(c);
        if (c.a === 1) break;
      }
      let bg = { r: 255, g: 255, b: 255, a: 1 };
      for (const c of layers.reverse()) bg = over(c, bg);
      return bg;
    };
    const fmt = (c) => `rgb(${Math.round(c.r)},${Math.round(c.g)},${Math.round(c.b)})`;
    const failures = [];
    const visible = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
    // Text: every element with a direct non-blank text node.
    for (const e of document.body.querySelectorAll('*')) {
      if (!visible(e)) continue;
      const text = [...e.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent.trim()).join(' ').trim();
      if (!text) continue;
      const cs = getComputedStyle(e);
      const fg = over(rgb(cs.color), background(e));
      const bg = background(e);
      const size = parseFloat(cs.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
      const need = large ? 3 : 4.5;
      const r = ratio(fg, bg);
      if (r < need) failures.push({ what: `text <${e.tagName.toLowerCase()}>`, text: text.slice(0, 40), fg: fmt(fg), bg: fmt(bg), ratio: +r.toFixed(2), need });
    }
    // Non-text (1.4.11): the boundary of text fields against what surrounds them.
    for (const e of document.querySelectorAll('input:not([type=hidden])')) {
      const cs = getComputedStyle(e);
      const border = rgb(cs.borderTopColor);
      const around = background(e.parentElement);
      const r = ratio(over(border, around), around);
      if (r < 3) failures.push({ what: `border of #${e.id}`, fg: fmt(border), bg: fmt(around), ratio: +r.toFixed(2), need: 3 });
    }
    return failures;
  });
}

/** The focused element's focus indicator: {id, outline, ratio} (ratio against the background behind the outline). */
export async function focusIndicator(page) {
  return page.evaluate(() => {
    const e = document.activeElement;
    const cs = getComputedStyle(e);
    const rgb = (s) => s.match(/[\d.]+/g).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => ((v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    let bgEl = e.parentElement;
    while (bgEl && rgb(getComputedStyle(bgEl).backgroundColor)[3] === 0) bgEl = bgEl.parentElement;
    const bg = rgb(bgEl ? getComputedStyle(bgEl).backgroundColor : 'rgb(255,255,255)');
    const ring = rgb(cs.outlineColor);
    const [hi, lo] = [lum(ring), lum(bg)].sort((p, q) => q - p);
    return {
      tag: e.tagName.toLowerCase(),
      id: e.id,
      name: e.getAttribute('name'),
      value: e.getAttribute('value'),
      text: e.textContent.trim(),
      outlineStyle: cs.outlineStyle,
      outlineWidth: parseFloat(cs.outlineWidth),
      ratio: +((hi + 0.05) / (lo + 0.05)).toFixed(2),
    };
  });
}

/** Layout problems at the current viewport: horizontal scrolling, small targets. */
export async function layoutProblems(page, minTarget) {
  return page.evaluate((min) => {
    const problems = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > doc.clientWidth) problems.push(`horizontal scroll: ${doc.scrollWidth} > ${doc.clientWidth}`);
    for (const e of document.querySelectorAll('button, input:not([type=hidden]), a[href]')) {
      const r = e.getBoundingClientRect();
      if (r.height < min || r.width < min) problems.push(`target ${e.tagName} ${e.id || e.textContent.trim()} is ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
    return problems;
  }, minTarget);
}
