#!/usr/bin/env python3
"""Resolves every DocC symbol link (``…``) of the package's documentation with docc itself.

Called by .ci/check-doc-links, which builds the symbol graphs first. The links are written for the
documentation of the umbrella module RNNODE, where `@_exported import` makes every symbol of every
module one module's symbol: ``Tensor`` in a doc comment of RNNODEModels names RNNODETensors' type.
docc resolves a link only inside the module whose doc comment holds it (its own symbol graph plus
extensions), so given the modules' graphs as they are it rejects every cross-module link, and the
umbrella's own graph holds only the public re-exported symbols without their internal ones. So this
script merges the library modules' compiler-emitted graphs (every access level) into one module
named after the package, and lets `docc convert` resolve the links there: relative resolution from
the documented symbol's scope, argument labels, overloads, `-swift.enum`/`-hash` disambiguation are
all docc's own rules. Then it maps docc's diagnostics back to the links.

It also checks what docc would not see on its own:
- `///` lines that no symbol of the graphs carries (doc comments on extensions, local functions,
  code compiled out): their links are attached to stand-in symbols in the enclosing type's scope;
- Docs/*.md and README.md: each file's text becomes the doc comment of a top-level stand-in, so its
  links resolve from the module, as in an article;
- links whose first component is a module of the package (``RNNODETensors/Tensor``) are rewritten to
  the merged module when that module declares the next component;
- a canary: one link that must fail and two cross-module links that must resolve, so that a docc
  that reports nothing (a changed diagnostics format, a crash swallowed) fails the check.

Exit status: 0 when every link resolves, 1 when some do not (each is listed as file:line), 2 when
the check itself could not run.
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import time

# Relationships that make a symbol a member of another (a symbol without one of these and with a
# longer path than one component is a local declaration of a function body: not linkable).
MEMBER_KINDS = ("memberOf", "requirementOf", "optionalRequirementOf")
TYPE_KINDS = (
    "swift.struct", "swift.class", "swift.enum", "swift.protocol", "swift.actor", "swift.typealias",
)
# A declaration that opens a scope, as a doc comment's enclosing type is found in the source.
SCOPE_DECL = re.compile(
    r"^\s*(?:@[\w.]+(?:\([^)]*\))?\s+)*(?:(?:public|private|fileprivate|internal|package|open|final|"
    r"indirect|nonisolated|nonisolated\(unsafe\))\s+)*(struct|class|enum|actor|protocol|extension)\s+"
    r"([A-Za-z_][\w.]*)"
)
CANARY_URI_NAME = "doc-links-canary.swift"


def fail(message):
    print(f"check-doc-links: {message}", file=sys.stderr)
    sys.exit(2)


def code_spans(text):
    """(start, end, backtick count) of each inline code span of one Markdown line (CommonMark: a
    run of n backticks opens a span that the next run of exactly n backticks closes)."""
    runs = [(m.start(), m.end()) for m in re.finditer(r"`+", text)]
    spans, i = [], 0
    while i < len(runs):
        start, end = runs[i]
        n = end - start
        j = next((k for k in range(i + 1, len(runs)) if runs[k][1] - runs[k][0] == n), None)
        if j is None:
            i += 1
            continue
        spans.append((end, runs[j][0], n))
        i = j + 1
    return spans


def symbol_links(lines):
    """The symbol links of a doc comment: (index of the line, byte column of the link text's
    start, its end, the text). `lines` are the comment's texts; fenced code blocks are skipped."""
    links, fence = [], None
    for index, text in enumerate(lines):
        stripped = text.lstrip()
        marker = re.match(r"(`{3,}|~{3,})", stripped)
        if marker:
            if fence is None:
                fence = marker.group(1)[0] * 3
            elif stripped.startswith(fence):
                fence = None
            continue
        if fence is not None:
            continue
        for start, end, n in code_spans(text):
            if n == 2:
                links.append((index, len(text[:start].encode()), len(text[:end].encode()), text[start:end]))
    return links


def is_doc_line(line):
    """A `///` line (`////` opens an ordinary comment)."""
    stripped = line.lstrip()
    return stripped.startswith("///") and not stripped.startswith("////")


def uri_path(uri):
    return uri[len("file://"):] if uri.startswith("file://") else uri


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True, help="the package's directory")
    parser.add_argument("--describe", required=True, help="`swift package describe --type json` output")
    parser.add_argument("--graphs", required=True, help="the compiler-emitted symbol graphs")
    parser.add_argument("--docc", required=True, help="the docc executable")
    parser.add_argument("--work", required=True, help="a scratch directory")
    parser.add_argument("--verbose", action="store_true", help="also list every docc diagnostic kept or ignored")
    parser.add_argument("markdown", nargs="*", help="Markdown files whose links to check")
    args = parser.parse_args()
    root = os.path.realpath(args.root)
    started = time.monotonic()

    describe = json.load(open(args.describe))
    modules = {
        t["name"]: t for t in describe["targets"]
        if t.get("module_type") == "SwiftTarget" and t.get("type") == "library"
        and t["path"].startswith("Sources/")
    }
    if not modules:
        fail("no Swift library modules under Sources/ in the package description")
    merged = describe["name"]

    # --- Merge the modules' graphs into one module. -------------------------------------------
    groups = collections.defaultdict(lambda: {"symbols": {}, "relationships": {}})
    owner = {}  # precise identifier -> module that declares the symbol
    metadata = module_info = None
    directories = {name: os.path.join(root, t["path"]) + os.sep for name, t in modules.items()}

    def declaring_module(symbol):
        """The module whose directory holds the symbol's declaration (None: no location)."""
        path = uri_path(symbol.get("location", {}).get("uri", ""))
        return next((name for name, directory in directories.items() if path.startswith(directory)), None)

    for name in sorted(modules):
        main_graph = os.path.join(args.graphs, f"{name}.symbols.json")
        if not os.path.exists(main_graph):
            fail(f"no symbol graph for {name} in {args.graphs}")
        files = [main_graph] + sorted(
            os.path.join(args.graphs, f) for f in os.listdir(args.graphs)
            if f.startswith(f"{name}@") and f.endswith(".symbols.json"))
        for path in files:
            graph = json.load(open(path))
            metadata, module_info = graph["metadata"], graph["module"]
            extended = os.path.basename(path)[: -len(".symbols.json")].partition("@")[2]
            # Extensions of the package's own modules join the merged module; those of other
            # modules (Swift's SIMD2, …) stay extension graphs of theirs.
            key = "" if not extended or extended in modules else extended
            group = groups[key]
            for symbol in graph["symbols"]:
                precise = symbol["identifier"]["precise"]
                if precise in group["symbols"]:
                    # One copy of each symbol: the declaring module's, not the umbrella's re-export.
                    if owner[precise] == declaring_module(symbol) or name != declaring_module(symbol):
                        continue
                comment = symbol.get("docComment")
                if comment and comment.get("module") in modules:
                    comment["module"] = merged  # otherwise docc takes it for inherited docs
                group["symbols"][precise] = symbol
                owner[precise] = name
            for relation in graph["relationships"]:
                group["relationships"][(relation["source"], relation["kind"], relation["target"])] = relation

    parented = {r["source"] for g in groups.values() for r in g["relationships"].values() if r["kind"] in MEMBER_KINDS}
    for key, group in groups.items():
        for precise in [p for p, s in group["symbols"].items() if len(s["pathComponents"]) > 1 and p not in parented]:
            del group["symbols"][precise]  # a local variable or function of a body
    known = {p for g in groups.values() for p in g["symbols"]}
    main = groups[""]
    symbols = main["symbols"]
    by_path = collections.defaultdict(list)
    for precise, symbol in symbols.items():
        by_path[tuple(symbol["pathComponents"])].append(symbol)
    top_level = collections.defaultdict(set)  # module -> names of its top-level symbols
    for precise, symbol in symbols.items():
        if len(symbol["pathComponents"]) == 1:
            top_level[owner[precise]].add(symbol["pathComponents"][0])

    # Every doc comment line the graphs carry, and every symbol's docComment lines to rewrite.
    covered = set()
    comments = []
    for group in groups.values():
        for symbol in group["symbols"].values():
            comment = symbol.get("docComment")
            if not comment or "uri" not in comment:
                continue
            path = uri_path(comment["uri"])
            if not path.startswith(root + os.sep):
                continue
            comments.append(comment)
            for line in comment["lines"]:
                if "range" in line:
                    covered.add((path, line["range"]["start"]["line"] + 1))

    stand_ins = []

    def add_stand_in(uri, first_line, texts, columns, parent):
        """A symbol carrying the given doc lines, a member of `parent` (a symbol) or top level."""
        number = len(stand_ins)
        name = f"docLinksStandIn{number}"
        precise = f"doc-links-stand-in-{number}"
        path = (parent["pathComponents"] if parent else []) + [name]
        lines = [
            {"range": {"start": {"line": first_line - 1 + i, "character": col},
                       "end": {"line": first_line - 1 + i, "character": col + len(text.encode())}},
             "text": text}
            for i, (text, col) in enumerate(zip(texts, columns))]
        symbol = {
            "kind": {"identifier": "swift.property" if parent else "swift.var",
                     "displayName": "Instance Property" if parent else "Global Variable"},
            "identifier": {"precise": precise, "interfaceLanguage": "swift"},
            "pathComponents": path,
            "names": {"title": name},
            "declarationFragments": [{"kind": "keyword", "spelling": "var"}, {"kind": "text", "spelling": " "},
                                     {"kind": "identifier", "spelling": name}],
            "docComment": {"uri": uri, "module": merged, "lines": lines},
            "accessLevel": "public",
            "location": {"uri": uri, "position": {"line": first_line - 1, "character": 0}},
        }
        symbols[precise] = symbol
        if parent:
            relation = {"source": precise, "target": parent["identifier"]["precise"], "kind": "memberOf"}
            main["relationships"][(precise, "memberOf", relation["target"])] = relation
        stand_ins.append(symbol)
        comments.append(symbol["docComment"])
        return symbol

    def enclosing_type(source_lines, index):
        """The symbol of the type (or extended type) whose scope holds the doc comment at
        `source_lines[index]`, from the declarations around it; None at the top level."""
        chain = []
        following = next((l for l in source_lines[index:] if not l.lstrip().startswith(("///", "@"))), "")
        match = SCOPE_DECL.match(following)
        if match and match.group(1) == "extension":
            chain = match.group(2).split(".")  # a comment on an extension: the extended type's scope
        indent = len(source_lines[index]) - len(source_lines[index].lstrip())
        for line in reversed(source_lines[:index]):
            if not line.strip() or line.lstrip().startswith("//"):
                continue
            line_indent = len(line) - len(line.lstrip())
            if line_indent < indent:
                indent = line_indent
                match = SCOPE_DECL.match(line)
                if match:
                    chain = match.group(2).split(".") + chain
            if indent == 0:
                break
        while chain:
            candidates = [s for s in by_path.get(tuple(chain), []) if s["kind"]["identifier"] in TYPE_KINDS]
            if candidates:
                return candidates[0]
            chain = chain[1:]  # `extension Outer.Inner` written at the top level of another scope
        return None

    # --- Doc comment lines no symbol carries. -------------------------------------------------
    sources = []
    for module in modules.values():
        base = os.path.join(root, module["path"])
        sources += [os.path.join(base, s) for s in module.get("sources", []) if s.endswith(".swift")]
    link_count = 0
    uncovered = 0
    for path in sorted(sources):
        source_lines = open(path, encoding="utf-8").read().split("\n")
        number = 0
        while number < len(source_lines):
            if not is_doc_line(source_lines[number]):
                number += 1
                continue
            start = number
            while number < len(source_lines) and is_doc_line(source_lines[number]):
                number += 1
            block = [i for i in range(start, number) if (path, i + 1) not in covered]
            if not block or "``" not in "".join(source_lines[i] for i in block):
                continue
            # Swift's doc comment text: after `///`, less the indentation all the lines share.
            bodies = [source_lines[i].lstrip()[3:] for i in block]
            common = min((len(b) - len(b.lstrip(" ")) for b in bodies if b.strip()), default=0)
            texts = [b[common:] for b in bodies]
            columns = [len(source_lines[i].encode()) - len(t.encode()) for i, t in zip(block, texts)]
            # Runs of consecutive lines, each one stand-in.
            run = 0
            for k in range(1, len(block) + 1):
                if k == len(block) or block[k] != block[k - 1] + 1:
                    add_stand_in("file://" + path, block[run] + 1, texts[run:k], columns[run:k],
                                 enclosing_type(source_lines, block[run]))
                    uncovered += k - run
                    run = k

    # --- Markdown files: top-level stand-ins. -------------------------------------------------
    for path in args.markdown:
        path = os.path.realpath(path)
        texts = open(path, encoding="utf-8").read().split("\n")
        add_stand_in("file://" + path, 1, texts, [0] * len(texts), None)

    # --- Module-qualified links: ``RNNODETensors/Tensor`` -> ``RNNODE/Tensor``. ----------------
    def rewrite(text):
        out = []
        for start, end, n in code_spans(text):
            if n != 2:
                continue
            link = text[start:end]
            first, _, rest = link.partition("/")
            if first == merged or first not in modules:
                continue
            head = rest.partition("/")[0]
            if rest and not any(head == t or head.startswith(t + "-") for t in top_level[first]):
                continue  # the module does not declare it: leave it for docc to reject
            # Same length: the module name is replaced and the line padded after the link, so
            # that docc's columns still point into the original link.
            replaced = merged + link[len(first):]
            out.append((start, end, replaced))
            pad = " " * (len(first.encode()) - len(merged.encode()))
            out.append((end + 2, end + 2, pad))
        for s, e, new in sorted(out, key=lambda x: x[0], reverse=True):
            text = text[:s] + new + text[e:]
        return text

    for comment in comments:
        for line in comment["lines"]:
            line["text"] = rewrite(line["text"])

    # --- The canary. ---------------------------------------------------------------------------
    def canary_targets():
        """A type of one module with a member, and a type of another module to hold the canary."""
        children = collections.defaultdict(list)
        for symbol in symbols.values():
            if len(symbol["pathComponents"]) == 2 and "::SYNTHESIZED::" not in symbol["identifier"]["precise"]:
                children[symbol["pathComponents"][0]].append(symbol["pathComponents"][1])
        for precise, symbol in sorted(symbols.items(), key=lambda x: x[1]["pathComponents"]):
            top = symbol["pathComponents"]
            if len(top) != 1 or symbol["kind"]["identifier"] not in TYPE_KINDS[:5] or len(by_path[tuple(top)]) != 1:
                continue
            unique = [c for c, k in collections.Counter(children[top[0]]).items()
                      if k == 1 and not c.startswith("docLinks") and len(by_path[(top[0], c)]) == 1
                      and re.fullmatch(r"[A-Za-z_]\w*(\([\w:]*\))?", c)]
            holders = [s for p, s in symbols.items() if len(s["pathComponents"]) == 1
                       and s["kind"]["identifier"] in TYPE_KINDS[:5] and p in owner and owner[p] != owner.get(precise)]
            if unique and holders:
                return top[0], sorted(unique)[0], sorted(holders, key=lambda s: s["pathComponents"])[0]
        fail("no symbols to build the canary from")

    canary_type, canary_member, canary_holder = canary_targets()
    canary_path = os.path.join(args.work, CANARY_URI_NAME)
    canary_texts = [
        "Canary: ``docLinksCanaryMissing`` must be reported;",
        f"``{canary_type}`` and ``{canary_type}/{canary_member}`` (from another module) must resolve.",
    ]
    open(canary_path, "w").write("".join(f"/// {t}\n" for t in canary_texts))
    add_stand_in("file://" + canary_path, 1, canary_texts, [4, 4], canary_holder)

    # --- Run docc. -----------------------------------------------------------------------------
    graph_dir = os.path.join(args.work, "graphs")
    os.makedirs(graph_dir)
    for key, group in groups.items():
        relationships = [r for r in group["relationships"].values()
                         if r["source"] in symbols or r["source"] in known]
        graph = {"metadata": metadata, "module": dict(module_info, name=merged),
                 "symbols": list(group["symbols"].values()), "relationships": relationships}
        with open(os.path.join(graph_dir, merged + (f"@{key}" if key else "") + ".symbols.json"), "w") as f:
            json.dump(graph, f)
    diagnostics_file = os.path.join(args.work, "diagnostics.json")
    command = [
        args.docc, "convert",
        "--additional-symbol-graph-dir", graph_dir,
        "--fallback-display-name", merged,
        "--fallback-bundle-identifier", f"doc-links.{merged}",
        "--output-path", os.path.join(args.work, "archive"),
        "--diagnostics-file", diagnostics_file,
        "--disable-parameters-and-returns-validation",
        "--no-transform-for-static-hosting",
    ]
    with open(os.path.join(args.work, "docc.log"), "w") as log:
        status = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT).returncode
    if status != 0:
        print(open(os.path.join(args.work, "docc.log")).read()[-4000:], file=sys.stderr)
        fail(f"docc convert exited with status {status}")
    if not os.path.exists(diagnostics_file):
        fail("docc wrote no diagnostics file")
    diagnostics = json.load(open(diagnostics_file))["diagnostics"]

    # --- Map the diagnostics to the links. -----------------------------------------------------
    # Every link, by (file, line): (start column, end column, text), columns 1-based UTF-8 bytes
    # as docc counts them.
    links = collections.defaultdict(list)
    for comment in comments:
        path = uri_path(comment["uri"])
        ranged = [l for l in comment["lines"] if "range" in l]
        for index, start, end, text in symbol_links([l["text"] for l in ranged]):
            line = ranged[index]
            entry = (line["range"]["start"]["character"] + start + 1,
                     line["range"]["start"]["character"] + end + 1, text)
            key = (path, line["range"]["start"]["line"] + 1)
            if entry not in links[key]:
                links[key].append(entry)
    original = {}  # link texts as written (before the module rewrite)
    source_cache = {}
    for (path, number), entries in links.items():
        if path == canary_path:
            continue
        if path not in source_cache:
            source_cache[path] = open(path, encoding="utf-8").read().split("\n")
        source = source_cache[path][number - 1]
        spans = [(len(source[:s].encode()) + 1, source[s:e]) for s, e, n in code_spans(source) if n == 2]
        for start, end, text in entries:
            original[(path, number, start)] = next((t for s, t in spans if s == start), text)
            link_count += 1

    def describe_problem(diagnostic):
        """docc's summary on one line, with its suggested fixes (a disambiguation, a near miss)."""
        # (The stand-ins' names left out: their scope is the one that counts.)
        summary = re.sub(r"/docLinksStandIn\d+", "", " ".join(diagnostic.get("summary", "").split()))
        fixes = []
        path = uri_path(diagnostic["source"])
        for solution in diagnostic.get("solutions", []):
            for replacement in solution.get("replacements", []):
                r, new = replacement["range"], replacement["text"]
                old = ""
                if r["start"]["line"] == r["end"]["line"] and os.path.exists(path):
                    if path not in source_cache:
                        source_cache[path] = open(path, encoding="utf-8").read().split("\n")
                    line = source_cache[path][r["start"]["line"] - 1].encode()
                    old = line[r["start"]["column"] - 1 : r["end"]["column"] - 1].decode(errors="replace")
                if not old:
                    fixes.append(f"append `{new}`")
                elif not new:
                    fixes.append(f"delete `{old}`")
                else:
                    fixes.append(f"replace `{old}` with `{new}`")
        return summary + (f" (docc suggests {', '.join(fixes)})" if fixes else "")

    # A diagnostic counts when it points into a link, or when it reads like a failed reference
    # (`<doc:…>` and other link forms this script does not extract) on a line of the package.
    link_failure = re.compile(r"doesn't exist at|is ambiguous at|can't be linked|unknown disambiguation", re.I)
    unresolved = {}
    ignored = []
    for diagnostic in diagnostics:
        source = diagnostic.get("source")
        if not source or not diagnostic.get("range"):
            ignored.append(diagnostic)
            continue
        path = uri_path(source)
        number = diagnostic["range"]["start"]["line"]
        column = diagnostic["range"]["start"]["column"]
        candidates = links.get((path, number), [])
        hit = [c for c in candidates if c[0] <= column <= c[1]]
        quoted = re.match(r"'([^']*)'", diagnostic.get("summary", ""))
        if not hit:
            # Columns off (a tab, an odd character): the link whose text holds the quoted name.
            hit = [c for c in candidates if quoted and quoted.group(1) in c[2]][:1]
        if not hit and not (link_failure.search(diagnostic.get("summary", "")) and
                            (path.startswith(root + os.sep) or path == canary_path)):
            ignored.append(diagnostic)
            continue
        start, _, text = hit[0] if hit else (column, column, quoted.group(1) if quoted else "?")
        key = (path, number, start)
        unresolved.setdefault(key, (original.get(key, text), describe_problem(diagnostic)))

    canary = {k: v for k, v in unresolved.items() if k[0] == canary_path}
    unresolved = {k: v for k, v in unresolved.items() if k[0] != canary_path}
    canary_texts_found = sorted(v[0] for v in canary.values())
    if canary_texts_found != ["docLinksCanaryMissing"]:
        print(open(os.path.join(args.work, "docc.log")).read()[-4000:], file=sys.stderr)
        fail(f"docc did not behave as expected on the canary links (reported {canary_texts_found or 'nothing'} "
             f"instead of exactly docLinksCanaryMissing)")

    if args.verbose:
        for d in ignored:
            where = f"{uri_path(d['source'])}:{d['range']['start']['line']}" if d.get("source") and d.get("range") else "-"
            print(f"ignored docc diagnostic: {where}: {d.get('summary', '').splitlines()[0]}")
        for symbol in stand_ins[:-1]:
            comment = symbol["docComment"]
            print(f"stand-in {'/'.join(symbol['pathComponents'])}: {uri_path(comment['uri'])}:"
                  f"{comment['lines'][0]['range']['start']['line'] + 1}")

    for (path, number, column), (text, summary) in sorted(unresolved.items()):
        print(f"{os.path.relpath(path, root)}:{number}:{column}: ``{text}``: {summary}")
    seconds = time.monotonic() - started
    print(f"check-doc-links: {link_count} links in {len(modules)} modules' doc comments and "
          f"{len(args.markdown)} Markdown files ({uncovered} doc lines outside the symbol graphs), "
          f"{len(unresolved)} unresolved; docc {seconds:.1f} s")
    sys.exit(1 if unresolved else 0)


if __name__ == "__main__":
    main()
