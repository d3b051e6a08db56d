// The guided path: the page's parts in the notes' order, a contents bar built from them, and
// "previous" / "next" links at the foot of each part.
//
// How to add a part: build a <section data-part="id" data-title="Short title"> (its first
// child an <h2>, then a <p class="notes-says"> with the notes' reasoning in a sentence or two)
// in your own module, and call addPart(section, { after: "nudges" }) (or without `after`: at
// the end). The contents bar and the previous/next links are rebuilt from the sections.
const main = () => document.getElementById("panels");

export function addPart(section, { after = null } = {}) {
  const anchor = after ? main().querySelector(`section[data-part="${after}"]`) : null;
  if (anchor) anchor.after(section); else main().append(section);
  rebuild();
  return section;
}

export function parts() { return [...main().querySelectorAll(":scope > section[data-part]")]; }

let nav = null;
export function contentsBar() {
  nav = document.createElement("nav");
  nav.id = "contents";
  nav.setAttribute("aria-label", "the parts of the notes");
  rebuild();
  new MutationObserver(() => rebuild()).observe(main(), { childList: true });
  return nav;
}

let building = false;
function rebuild() {
  if (!nav || building) return;
  building = true;
  const list = parts();
  nav.replaceChildren(...list.map((s, i) => {
    const a = document.createElement("a");
    a.href = `#${s.id}`;
    a.dataset.part = s.dataset.part;
    a.textContent = `${i + 1}. ${s.dataset.title}`;
    return a;
  }));
  list.forEach((s, i) => {
    const h2 = s.querySelector("h2");
    if (h2) h2.dataset.number = `${i + 1}.`;
    let foot = s.querySelector(":scope > .part-foot");
    if (!foot) { foot = document.createElement("div"); foot.className = "part-foot"; s.append(foot); }
    const links = [];
    if (i > 0) links.push(link(list[i - 1], "prev", `← ${list[i - 1].dataset.title}`));
    if (i < list.length - 1) links.push(link(list[i + 1], "next", `Next: ${list[i + 1].dataset.title} →`));
    foot.replaceChildren(...links);
  });
  building = false;
  watch(list);
}

function link(section, kind, text) {
  const a = document.createElement("a");
  a.href = `#${section.id}`;
  a.className = `part-${kind}`;
  a.textContent = text;
  return a;
}

let observer = null;
function watch(list) {
  if (observer) observer.disconnect();
  observer = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      for (const a of nav.querySelectorAll("a")) a.classList.toggle("current", a.dataset.part === e.target.dataset.part);
      const current = nav.querySelector("a.current");
      if (current && nav.scrollWidth > nav.clientWidth) nav.scrollLeft = current.offsetLeft - 12;
    }
  }, { rootMargin: "-30% 0px -60% 0px" });
  list.forEach((s) => observer.observe(s));
}

// A part's section: <section id data-part data-title class="panel"><h2>title</h2><p class="notes-says">…</p>…</section>
export function partSection({ id, part, title, heading = title, says = "" }, ...children) {
  const section = document.createElement("section");
  section.id = id;
  section.className = "panel part";
  section.dataset.part = part;
  section.dataset.title = title;
  const h2 = document.createElement("h2");
  h2.textContent = heading;
  section.append(h2);
  if (says) {
    const p = document.createElement("p");
    p.className = "notes-says";
    p.textContent = says;
    section.append(p);
  }
  section.append(...children);
  return section;
}
