#!/usr/bin/python3
"""Every relative link and #anchor in README.md and docs/*.md leads somewhere.

For each inline link or image `[text](target)` outside code (fenced blocks
and `code spans`), a target without a scheme must name an existing file or
folder (relative to the page that links), and a `#anchor` must be the anchor
of a heading of the target page (or of the page itself for `#anchor` alone),
by GitHub's rule: the heading's text (link and emphasis markup dropped)
lower-cased, every character that is not a letter, digit, `_`, `-` or space
removed, each space turned into `-`; a repeated anchor gets `-1`, `-2`, ...
Also refused: a line inside a fenced code block that starts with `#` and a
space, which reads as a heading to any tool that splits a page by headings
(write a shell comment as prose before the block instead), and a README.md
longer than 700 lines (the overview; details go to docs/).

PENDING lists pages that other branches add: a link to one of them is
reported, not failed, while the page does not exist; once it exists it is
checked like any other.  Empty the list when they are merged.

Runs a self-check first on made-up pages (each kind of breakage must be
found), so that the test cannot pass by finding nothing.  Standard library
only; needs no database.  Exit 0 = pass.
"""
import os
import re
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# pages another branch adds (path from the root: what it will hold)
PENDING = {
}

README_MAX_LINES = 700
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
LINK = re.compile(r"!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?([^()\s<>]*(?:\([^()\s]*\)[^()\s<>]*)*)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"", re.I)


def prose_lines(text):
    """(line number, line, inside a fenced block?) for every line."""
    fence = None
    for n, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)[0] * len(m.group(1))
            yield n, line, True
            continue
        if fence is not None:
            if line.strip().startswith(fence) and set(line.strip()) <= {fence[0]}:
                fence = None
            yield n, line, True
            continue
        yield n, line, False


def slug(heading):
    text = re.sub(r"!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\([^)]*\)", r"\1", heading)  # links: their text
    text = re.sub(r"<[^>]+>", "", text)                                             # inline HTML
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text):
    seen = {}
    out = set()
    for _, line, fenced in prose_lines(text):
        if fenced:
            continue
        for a in HTML_ANCHOR.findall(line):
            out.add(a)
        m = HEADING.match(line)
        if not m:
            continue
        s = slug(m.group(2))
        if s in seen:
            seen[s] += 1
            out.add(f"{s}-{seen[s]}")
        else:
            seen[s] = 0
            out.add(s)
    return out


def check(root, pages, pending):
    """(problems, pending notes) for the pages (paths relative to root)."""
    problems, notes = [], []
    cache = {}

    def anchors_of(path):
        if path not in cache:
            with open(path, encoding="utf-8") as f:
                cache[path] = anchors(f.read())
        return cache[path]

    for page in pages:
        path = os.path.join(root, page)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        # links may wrap: join a paragraph's lines, keep the first line number
        para, start = [], None
        blocks = []
        for n, line, fenced in prose_lines(text):
            if fenced:
                if line.lstrip().startswith("#") and re.match(r"^\s*#+(\s|$)", line) and not FENCE.match(line):
                    problems.append(f"{page}:{n}: a line starting with '#' inside a code block reads as a heading: {line.strip()}")
                if para:
                    blocks.append((start, " ".join(para)))
                    para = []
                continue
            if not line.strip():
                if para:
                    blocks.append((start, " ".join(para)))
                    para = []
                continue
            if not para:
                start = n
            para.append(line)
        if para:
            blocks.append((start, " ".join(para)))
        for n, block in blocks:
            block = CODE_SPAN.sub(lambda m: " " * len(m.group(0)), block)
            for m in LINK.finditer(block):
                target = m.group(2)
                if not target or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
                    continue            # http:, https:, mailto:
                file_part, _, anchor = target.partition("#")
                if file_part:
                    dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part))
                else:
                    dest = path
                rel = os.path.relpath(dest, root)
                if not os.path.exists(dest):
                    if rel in pending:
                        notes.append(f"{page}:{n}: link to {rel}, a page another branch adds ({pending[rel]}): not there yet")
                    else:
                        problems.append(f"{page}:{n}: [{m.group(1)}]({target}): no file {rel}")
                    continue
                if anchor:
                    if not dest.endswith(".md") or os.path.isdir(dest):
                        problems.append(f"{page}:{n}: [{m.group(1)}]({target}): an anchor into a file that is not a Markdown page")
                    elif anchor not in anchors_of(dest):
                        problems.append(f"{page}:{n}: [{m.group(1)}]({target}): no heading of {rel} has the anchor #{anchor}")
    return problems, notes


def self_check():
    """The checker finds each kind of breakage on made-up pages."""
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(os.path.join(d, "docs"))
        with open(os.path.join(d, "README.md"), "w", encoding="utf-8") as f:
            f.write("# Top\n\n## Getting started\n\n## Getting started\n\n### `rollup(nps_summary)`: merging\n\n"
                    "ok [a](#getting-started), [b](#getting-started-1), [c](#rollupnps_summary-merging),\n"
                    "[d](docs/a.md#the-recipe--with-age-012), [e](docs/a.md), [f](docs/), [w](https://example.com/x#y),\n"
                    "`[not a link](nowhere.md)`, [g](docs/pending.md).\n\n"
                    "broken [h](#getting-started-2) and [i](docs/missing.md) and\n[j](docs/a.md#no-such-heading), [k](LICENSE#x).\n\n"
                    "```sh\n# a comment that reads as a heading\necho\n```\n")
        with open(os.path.join(d, "docs", "a.md"), "w", encoding="utf-8") as f:
            f.write("# A\n\n```sql\n-- # not a heading\n```\n\n## The recipe: × with age 0..12\n\n[up](../README.md#top)\n")
        open(os.path.join(d, "LICENSE"), "w").close()
        problems, notes = check(d, ["README.md", "docs/a.md"], {"docs/pending.md": "test"})
        want = ["#getting-started-2", "no file docs/missing.md", "#no-such-heading", "not a Markdown page",
                "reads as a heading"]
        found = [w for w in want if any(w in p for p in problems)]
        if found != want or len(problems) != len(want) or len(notes) != 1:
            print("FAIL self-check: the checker did not find exactly the planted breakages")
            print("  problems:", *problems, sep="\n    ")
            print("  notes:", *notes, sep="\n    ")
            return False
    return True


def main():
    if not self_check():
        return 1
    pages = ["README.md"] + sorted(os.path.join("docs", f) for f in os.listdir(os.path.join(ROOT, "docs"))
                                   if f.endswith(".md"))
    problems, notes = check(ROOT, pages, PENDING)
    for note in notes:
        print("pending:", note)
    for rel in sorted(PENDING):
        if os.path.exists(os.path.join(ROOT, rel)):
            print(f"note: {rel} exists now: remove it from PENDING in {os.path.relpath(__file__, ROOT)}")
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme_lines = len(f.read().splitlines())
    if readme_lines > README_MAX_LINES:
        problems.append(f"README.md has {readme_lines} lines, more than {README_MAX_LINES}: move details to docs/")
    for p in problems:
        print("FAIL", p)
    print(f"docs links: {len(pages)} pages checked (README.md {readme_lines} lines), {len(problems)} problems, "
          f"{len(notes)} links to pending pages")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
