#!/usr/bin/env python3
"""Finds module import cycles in every crate of the workspace.

Rule: inside each module, the graph of its child modules must be acyclic. A child `a` depends on
a sibling `b` when any file under `a` names a path into `b` (through `use`, `crate::`, `super::`
or a re-export of the parent). Items defined in the parent itself are not a dependency on a
sibling, so `mod.rs` holding shared types is fine; `a -> b -> a` between siblings is not, and
neither is a longer loop. Exit status 1 lists each cycle with one reference that makes each edge.

Usage: scripts/check-module-cycles.py [crates-dir]   (default: crates/ beside this script)
"""
import os
import re
import sys

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip(src):
    """Source without comments, string or char literals (so paths in them are not read)."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if src.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif src.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "r" and re.match(r'r(#*)"', src[i:i + 10]) and not re.match(r"\w", src[i - 1:i] or " "):
            m = re.match(r'r(#*)"', src[i:])
            end = '"' + m.group(1)
            j = src.find(end, i + len(m.group(0)))
            i = n if j < 0 else j + len(end)
            out.append('""')
        elif c == '"':
            i += 1
            while i < n and src[i] != '"':
                i += 2 if src[i] == "\\" else 1
            i += 1
            out.append('""')
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", src[i:i + 4] + src[i + 4:i + 12]):
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", src[i:])
            if m:
                i += len(m.group(0))
                out.append("' '")
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> [[a, b], [a, c, d], [a, c, e]] (`as` renames dropped)."""
    tree = re.sub(r"\s+as\s+" + IDENT, "", tree)
    tree = re.sub(r"\s+", "", tree)

    def parse(s, pos):
        # returns (list of paths, pos)
        prefix, paths = [], []
        while pos < len(s):
            m = re.match(IDENT + r"|\*", s[pos:])
            if m:
                prefix.append(m.group(0))
                pos += len(m.group(0))
                if s.startswith("::", pos):
                    pos += 2
                    if s.startswith("{", pos):
                        pos += 1
                        while True:
                            sub, pos = parse(s, pos)
                            paths += [prefix + p for p in sub]
                            if s.startswith(",", pos):
                                pos += 1
                                if s.startswith("}", pos):
                                    pos += 1
                                    return paths, pos
                                continue
                            if s.startswith("}", pos):
                                pos += 1
                            return paths, pos
                    continue
                return paths + [prefix], pos
            return paths + ([prefix] if prefix else []), pos
        return paths + ([prefix] if prefix else []), pos

    out, pos = [], 0
    while pos < len(tree):
        p, pos = parse(tree, pos)
        out += p
        if pos < len(tree) and tree[pos] in ",}":
            pos += 1
        elif pos < len(tree):
            pos += 1
    return out


class Crate:
    def __init__(self, name, root_file):
        self.name = name
        self.files = {}  # module path tuple -> file
        self.walk(root_file, ())

    def walk(self, path, modpath):
        self.files[modpath] = path
        try:
            src = strip(open(path, encoding="utf-8").read())
        except OSError:
            return
        base = os.path.dirname(path)
        stem = os.path.basename(path)[:-3]
        if stem not in ("lib", "main", "mod") and modpath:
            base = os.path.join(base, stem)
        # `mod x;` declarations (not inline `mod x { ... }`, whose items stay in this file)
        for m in re.finditer(r"(?m)^\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(" + IDENT + r")\s*;", src):
            name = m.group(1)
            for cand in (os.path.join(base, name + ".rs"), os.path.join(base, name, "mod.rs")):
                if os.path.exists(cand):
                    self.walk(cand, modpath + (name,))
                    break


def references(crate, modpath, src):
    """Absolute module paths (as tuples, possibly with a trailing item) this file names."""
    refs = []
    for m in re.finditer(r"\buse\s+([^;]+);", src):
        for p in expand_use(m.group(1)):
            refs.append(p)
    for m in re.finditer(r"(?<![\w:])((?:crate|super|self)(?:::" + IDENT + r")+)", src):
        refs.append(m.group(1).split("::"))
    out = []
    for p in refs:
        if not p:
            continue
        if p[0] == "crate":
            out.append(tuple(p[1:]))
        elif p[0] in ("super", "self"):
            cur = list(modpath)
            i = 0
            while i < len(p) and p[i] in ("super", "self"):
                if p[i] == "super" and cur:
                    cur.pop()
                i += 1
            out.append(tuple(cur) + tuple(p[i:]))
        elif (p[0],) in crate.files and modpath == ():
            out.append(tuple(p))  # `use config::X` inside the root
        else:
            # `use sibling::x` is only valid with a `self::`-less relative path at the root or for
            # a child declared here: child modules of this file
            if modpath + (p[0],) in crate.files:
                out.append(modpath + tuple(p))
    return out


def reexports(crate):
    """`pub use a::b::Item;` in a module: modpath + (Item,) -> target path."""
    table = {}
    for modpath, path in crate.files.items():
        src = strip(open(path, encoding="utf-8").read())
        for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", src):
            for p in expand_use(m.group(1)):
                if not p or p[-1] == "*":
                    continue
                tgt = references(crate, modpath, "use " + "::".join(p) + ";")
                if tgt:
                    table[modpath + (p[-1],)] = tgt[0]
    return table


def resolve(crate, table, path):
    """The deepest module of `path` (following re-exports)."""
    for _ in range(8):
        if path in table:
            path = table[path]
            continue
        i = len(path)
        while i > 0 and path[:i] not in crate.files:
            i -= 1
        prefix = path[:i]
        rest = path[i:]
        if rest and prefix + rest[:1] in table:
            path = table[prefix + rest[:1]] + rest[1:]
            continue
        return prefix
    return path


def cycles_in(graph):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def check(crate):
    table = reexports(crate)
    # edges[(parent)][child_a][child_b] = example "file: path"
    edges = {}
    for modpath, path in crate.files.items():
        src = strip(open(path, encoding="utf-8").read())
        for ref in references(crate, modpath, src):
            target = resolve(crate, table, ref)
            # common ancestor of modpath and target
            k = 0
            while k < len(modpath) and k < len(target) and modpath[k] == target[k]:
                k += 1
            if k >= len(modpath) or k >= len(target):
                continue  # an ancestor or a descendant: not a sibling edge
            parent, a, b = modpath[:k], modpath[k], target[k]
            edges.setdefault(parent, {}).setdefault(a, {}).setdefault(
                b, f"{os.path.relpath(path)} names {'::'.join(ref)}")
    problems = []
    for parent, graph in sorted(edges.items()):
        g = {a: set(bs) for a, bs in graph.items()}
        for comp in cycles_in(g):
            where = "::".join((crate.name,) + parent)
            lines = [f"cycle in {where}: {' <-> '.join(comp)}"]
            for a in comp:
                for b in comp:
                    if b in graph.get(a, {}):
                        lines.append(f"    {a} -> {b}: {graph[a][b]}")
            problems.append("\n".join(lines))
    return problems


def crates_under(root):
    for name in sorted(os.listdir(root)):
        src = os.path.join(root, name, "src")
        if not os.path.isdir(src):
            continue
        for top in ("lib.rs", "main.rs"):
            if os.path.exists(os.path.join(src, top)):
                yield f"{name}({top[:-3]})", os.path.join(src, top)
        bindir = os.path.join(src, "bin")
        if os.path.isdir(bindir):
            for f in sorted(os.listdir(bindir)):
                if f.endswith(".rs"):
                    yield f"{name}(bin {f[:-3]})", os.path.join(bindir, f)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "crates")
    problems, n = [], 0
    for name, top in crates_under(root):
        crate = Crate(name, top)
        n += len(crate.files)
        problems += check(crate)
    for p in problems:
        print(p)
    print(f"module cycles: {len(problems)} in {n} modules")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
