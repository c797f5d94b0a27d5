#!/usr/bin/env python3
"""Rewrites Rust sources from the pre-0.2 public paths to the new ones (docs/migration.md).

Usage: python3 scripts/migrate_paths.py FILE_OR_DIR...

Reads the path table in docs/migration.md (rows `| `old` | `new` |`), then in every .rs and
.md file given (directories are walked): splits `use slack_rtm::{…};` groups so each moved
name gets its new path, rewrites fully qualified paths, and renames the identifiers of
renamed types in files that imported them (`use crate::…` / `use super::…` inside the
library crates are not: the compiler points at them). Variant patterns of the merged error types
(`WebCallError::OutcomeUnknown { .. }`, `ConnectError::Api { .. }`) are NOT rewritten: the
compiler points at them; the table in docs/migration.md says what each became.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TABLE = os.path.join(HERE, "..", "docs", "migration.md")


def load_table():
    rows = []
    for line in open(TABLE, encoding="utf-8"):
        m = re.match(r"\|\s*`([A-Za-z0-9_:]+)`\s*\|\s*`([A-Za-z0-9_:]+)`\s*\|", line)
        if m:
            rows.append((m.group(1), m.group(2)))
    return rows


def split_top(s):
    out, depth, cur = [], 0, ""
    for c in s:
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        if c == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += c
    if cur.strip():
        out.append(cur.strip())
    return out


def rewrite_groups(text, table):
    """`use PREFIX::{a, b as c, d};` with moved names split out."""
    moved = dict(table)
    renames = {}
    pat = re.compile(r"(?m)^([ \t]*(?://[/!] (?:# )?)?)(pub(?:\([a-z]+\))? )?use ((?:slack_rtm|slack_rtm_codec|slack_rtm_session|slack_rtm_hyper|slack_rtm_types|slack_rtm_oauth|slack_rtm_fleet)(?:::[a-z_]+)*)::\{")
    pos = 0
    out = ""
    while True:
        m = pat.search(text, pos)
        if not m:
            out += text[pos:]
            break
        out += text[pos:m.start()]
        indent, vis, prefix = m.group(1), m.group(2) or "", m.group(3)
        i, depth = m.end(), 1
        while depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        inner = text[m.end():i - 1]
        end = text.index(";", i) + 1
        keep, extra = [], []
        for item in split_top(inner):
            name, _, alias = item.partition(" as ")
            name = name.strip()
            old = f"{prefix}::{name}"
            if old in moved:
                new = moved[old]
                new_name = new.rsplit("::", 1)[1]
                if alias and alias.strip() != new_name:
                    extra.append(f"{indent}{vis}use {new} as {alias.strip()};")
                elif alias:
                    # `Old as New` where New is now the name itself.
                    extra.append(f"{indent}{vis}use {new};")
                else:
                    extra.append(f"{indent}{vis}use {new};")
                    if new_name != name:
                        renames[name] = new_name
            else:
                keep.append(item)
        if not extra or ("//" in indent and "\n" in inner):
            # Nothing moved, or a doc comment's group over several lines: left as it is.
            out += text[m.start():end]
            pos = end
            continue
        lines = []
        if keep:
            if len(keep) == 1 and "{" not in keep[0] and " as " not in keep[0] and keep[0] != "self":
                lines.append(f"{indent}{vis}use {prefix}::{keep[0]};")
            else:
                lines.append(f"{indent}{vis}use {prefix}::{{{', '.join(keep)}}};")
        lines += extra
        out += "\n".join(dict.fromkeys(lines))
        pos = end
    return out, renames


def rename_identifier(text, old_name, new_name):
    """Renames the type `old_name` where it is not a path's tail (`Enum::Variant`), an
    associated type (`type Output`, `Future<Output = T>`) or an enum variant's definition
    (`    Ack(…)` / `    Event { … }` at the start of a line)."""
    def repl(m):
        before = text[max(0, m.start() - 40):m.start()]
        after = text[m.end():m.end() + 4]
        line = text[text.rfind("\n", 0, m.start()) + 1:m.start()]
        if re.search(r"\btype\s+$", before):
            return m.group(0)
        if re.search(r"[<,]\s*$", before) and re.match(r"\s*=[^=>]", after):
            return m.group(0)
        if line.strip() == "" and re.match(r"\(| \{", after):
            return m.group(0)
        if re.match(r":(?!:)", after):
            return m.group(0)
        return new_name
    return re.sub(rf"(?<![A-Za-z0-9_:]){old_name}(?![A-Za-z0-9_])", repl, text)


def rewrite(text, table):
    text, renames = rewrite_groups(text, table)
    for old, new in sorted(table, key=lambda r: -len(r[0])):
        old_name, new_name = old.rsplit("::", 1)[1], new.rsplit("::", 1)[1]
        # `use old;` (single) and qualified uses.
        if re.search(rf"\buse {re.escape(old)}\s*;", text) and old_name != new_name:
            renames[old_name] = new_name
        # `use parent::*;`: the old name came in through the glob.
        parent = old.rsplit("::", 1)[0]
        if re.search(rf"\buse {re.escape(parent)}::\*\s*;", text) and old_name != new_name:
            renames[old_name] = new_name
        text = re.sub(rf"(?<![A-Za-z0-9_:]){re.escape(old)}(?![A-Za-z0-9_])", new, text)
    for old_name, new_name in renames.items():
        text = rename_identifier(text, old_name, new_name)
    # A group may now import the same name twice (WebCallError and WebError both became
    # ApiCallError): drop repeated single-name top-level `use slack_rtm…` lines.
    seen, lines = set(), []
    for line in text.split("\n"):
        key = line
        if key.startswith("use slack_rtm") and key.endswith(";") and "{" not in key:
            if key in seen:
                continue
            seen.add(key)
        lines.append(line)
    return "\n".join(lines)


def main():
    table = load_table()
    paths = []
    for arg in sys.argv[1:]:
        if os.path.isdir(arg):
            for root, dirs, files in os.walk(arg):
                dirs[:] = [d for d in dirs if d not in ("target", ".git")]
                paths += [os.path.join(root, f) for f in files if f.endswith((".rs", ".md"))]
        else:
            paths.append(arg)
    for p in paths:
        if os.path.abspath(p) == os.path.abspath(TABLE):
            continue
        old = open(p, encoding="utf-8").read()
        new = rewrite(old, table)
        if new != old:
            open(p, "w", encoding="utf-8").write(new)
            print("rewrote", p)


if __name__ == "__main__":
    main()
