"""The ``hopfield-memory`` command line.

Subcommands: ``demo`` (offline, in RAM), and on a durable store given by ``--path STORE`` (or the
environment variable ``HOPFIELD_MEMORY_PATH``): ``store``, ``query``, ``import``, ``export``,
``stats``, ``forget`` and ``mcp`` (the MCP server over stdio). ``--namespace`` selects one memory
in the file (default "default"); ``--json`` prints machine-readable output on stdout.

Exit codes (also in ``hopfield-memory --help``):

* 0: success.
* 1: no answer: ``query --or-none`` abstained, or ``query`` on a store without facts (like
  ``grep`` finding nothing).
* 2: usage error (unknown option, missing ``--path``, bad value).
* 3: the store cannot be used: missing (for commands that only read), not a memory file,
  damaged, unknown namespace, other encoder, busy for longer than the timeout.
* 4: bad input: an unreadable or malformed import file, empty fact text, bad metadata, an
  unknown fact id.
* 5: a missing optional dependency (``mcp`` without ``pip install 'mhn-ai-agent-memory[mcp]'``).
* 130: interrupted (Ctrl-C).

Errors are printed to stderr as ``hopfield-memory: error: <message>``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import __version__, jsonable
from .errors import (
    HopfieldMemoryError,
    MemoryClosedError,
    MissingExtraError,
    PersistenceNotFoundError,
    StoreBusyError,
)
from .memory import HopfieldMemory

PROG = "hopfield-memory"
PATH_ENV = "HOPFIELD_MEMORY_PATH"

EXIT_OK = 0
EXIT_NO_ANSWER = 1
EXIT_USAGE = 2
EXIT_STORE = 3
EXIT_INPUT = 4
EXIT_MISSING_EXTRA = 5
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = f"""\
exit codes:
  {EXIT_OK}    success
  {EXIT_NO_ANSWER}    no answer (query --or-none abstained; query on a store without facts)
  {EXIT_USAGE}    usage error
  {EXIT_STORE}    the store cannot be used (missing, not a memory file, damaged, unknown
       namespace, other encoder, busy)
  {EXIT_INPUT}    bad input (import file, fact text, metadata, unknown fact id)
  {EXIT_MISSING_EXTRA}    an optional dependency is missing (mcp)

--path defaults to ${PATH_ENV}. Commands that only read (query, export, stats, forget) never
create a store; store, import and mcp create it when missing.
"""

DEMO_FACTS = (
    "The Eiffel Tower is in Paris",
    "Alice is a mathematician who works on topology",
    "Bob plays the violin in the city orchestra",
    "The capital of Japan is Tokyo",
    "Water boils at 100 degrees Celsius at sea level",
    "Python was created by Guido van Rossum",
    "Mount Everest is the highest mountain on Earth",
    "The server room door code is changed every Monday",
)
DEMO_CUES = (
    "Eiffel Tower Paris",
    "who works on topology",
    "capital of Japan",
    "highest mountain on earth",
    "Eifel Tower in Pariss",
    "quantum chromodynamics lecture notes",
    "what will the weather be tomorrow",
)


class CommandError(Exception):
    """Ends a command with a message on stderr and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


# ----------------------------------------------------------------------------------- helpers


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _note(message: str) -> None:
    """A human-readable message on stderr (stdout stays clean for data)."""
    print(f"{PROG}: {message}", file=sys.stderr)


@contextmanager
def _open(args: argparse.Namespace, *, create: bool) -> Iterator[HopfieldMemory]:
    """The durable memory of ``--path``/``--namespace``; open errors exit with EXIT_STORE and
    errors of the command itself with EXIT_INPUT (a busy or closed store: EXIT_STORE)."""
    try:
        memory = HopfieldMemory.open(args.path, namespace=args.namespace, create=create)
    except PersistenceNotFoundError:
        raise CommandError(
            f"no memory file at {str(args.path)!r} ({args.command} never creates one; "
            f"`store` and `import` do)",
            EXIT_STORE,
        ) from None
    except (HopfieldMemoryError, OSError) as exc:
        raise CommandError(_describe(exc), EXIT_STORE) from None
    try:
        with memory:
            yield memory
    except (StoreBusyError, MemoryClosedError) as exc:
        raise CommandError(_describe(exc), EXIT_STORE) from None
    except HopfieldMemoryError as exc:
        raise CommandError(_describe(exc), EXIT_INPUT) from None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, HopfieldMemoryError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return str(exc) or type(exc).__name__


def _metadata(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise CommandError(f"--metadata is not JSON: {exc}", EXIT_USAGE) from None
    if not isinstance(value, dict):
        raise CommandError(
            '--metadata must be a JSON object, e.g. \'{"source": "notes"}\'', EXIT_USAGE
        )
    return value


def _progress(args: argparse.Namespace) -> bool:
    if args.progress is not None:
        return bool(args.progress)
    return sys.stderr.isatty()


# ---------------------------------------------------------------------------------- commands


def _demo(args: argparse.Namespace) -> int:
    mem = HopfieldMemory()
    mem.store_many(list(DEMO_FACTS))
    reports = mem.match_quality_many(list(DEMO_CUES), top_k=2)
    if args.json:
        out = [{"cue": cue, **r.as_dict()} for cue, r in zip(DEMO_CUES, reports, strict=True)]
        _print_json({"facts": list(DEMO_FACTS), "answers": out})
        return EXIT_OK
    print(f"Stored {len(mem)} facts with {mem.encoder!r} (offline, no model download).\n")
    for cue, report in zip(DEMO_CUES, reports, strict=True):
        print(f"cue: {cue!r}")
        if report.best is not None:
            print(f"  -> {report.best.text!r}  weight={report.best.weight:.3f}")
        else:
            reason = report.reason.value if report.reason else "?"
            print(f"  -> None (abstained: {reason})")
        print(f"     {report.explanation}\n")
    return EXIT_OK


def _store(args: argparse.Namespace) -> int:
    metadata = _metadata(args.metadata)
    for text in args.texts:
        if not text.strip():
            raise CommandError("a fact needs text; got an empty argument", EXIT_INPUT)
    with _open(args, create=True) as mem:
        ids = mem.store_many(args.texts, [metadata] * len(args.texts))
        if args.json:
            _print_json({"ids": ids})
        else:
            for fact_id in ids:
                print(fact_id)
    return EXIT_OK


def _query(args: argparse.Namespace) -> int:
    if not args.cue.strip():
        raise CommandError("a cue needs text; got an empty argument", EXIT_INPUT)
    top_k = args.top_k or (3 if args.explain or args.json else 1)
    with _open(args, create=False) as mem:
        report = mem.match_quality(args.cue, top_k=top_k)
        if not report.candidates:
            answers = []
        elif args.or_none:
            answers = [] if report.best is None else list(report.candidates)
        else:
            answers = list(report.candidates)
        code = EXIT_OK if answers else EXIT_NO_ANSWER
        if args.json:
            out = jsonable.report_dict(report, args.cue)
            if not args.or_none and report.candidates:
                out["answer"] = jsonable.recall_dict(report.candidates[0])
            _print_json(out)
            return code
        if args.explain:
            print(f"cue: {args.cue!r}")
            for rank, c in enumerate(report.candidates, 1):
                print(
                    f"  {rank}. [id {c.id}] weight={c.weight:.3f} "
                    f"similarity={c.similarity:.3f}  {c.text}"
                )
            print(
                f"  signals: max_similarity={report.max_similarity:.3f} gap={report.gap:.3f} "
                f"sentinel_weight={report.sentinel_weight:.3f}"
            )
            print(f"  {report.explanation}")
            if answers:
                print(f"answer: {answers[0].text}")
        else:
            for c in answers:
                print(c.text)
        if not answers:
            if not report.candidates:
                _note("no answer: the memory holds no facts")
            else:
                reason = report.reason.value if report.reason else "unknown"
                _note(f"no answer ({reason})")
        return code


def _import(args: argparse.Namespace) -> int:
    fmt = args.format
    if fmt == "auto":
        fmt = "jsonl" if str(args.file).endswith(".jsonl") else "text"
    show = _progress(args)
    if show:  # without tqdm, progress arrives as INFO log lines
        logging.getLogger("hopfield_memory.progress").setLevel(logging.INFO)
    with _input_file(args.file, fmt) as source:
        texts = [] if fmt == "jsonl" else _read_lines(source)
        if fmt == "text" and not texts:
            raise CommandError(f"{args.file}: no facts (every line is blank)", EXIT_INPUT)
        with _open(args, create=True) as mem:
            if fmt == "jsonl":
                ids = mem.import_jsonl(source, progress=show)
            else:
                ids = mem.store_many(texts, progress=show)
            if args.json:
                _print_json({"count": len(ids), "ids": ids, "path": mem.path})
            else:
                first_last = f" (ids {ids[0]}..{ids[-1]})" if ids else ""
                _note(f"imported {len(ids)} facts{first_last} into {mem.path}")
    return EXIT_OK


@contextmanager
def _input_file(name: str, fmt: str) -> Iterator[Path]:
    """The import file as a path (standard input is copied to a temporary file first)."""
    if name != "-":
        path = Path(name)
        if not path.is_file():
            raise CommandError(f"{name}: no such file", EXIT_INPUT)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="hopfield-memory-") as tmp:
        path = Path(tmp) / f"stdin.{'jsonl' if fmt == 'jsonl' else 'txt'}"
        try:
            data = sys.stdin.buffer.read()
        except OSError as exc:
            raise CommandError(f"cannot read standard input: {exc}", EXIT_INPUT) from None
        path.write_bytes(data)
        yield path


def _read_lines(path: Path) -> list[str]:
    """One fact per non-blank line, surrounding whitespace stripped."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path}: not UTF-8 text ({exc.reason})", EXIT_INPUT) from None
    except OSError as exc:
        raise CommandError(_describe(exc), EXIT_INPUT) from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def _export(args: argparse.Namespace) -> int:
    with _open(args, create=False) as mem:
        if args.output == "-":
            count = mem.export_jsonl(sys.stdout, vectors=args.vectors)
            sys.stdout.flush()
            _note(f"exported {count} facts")
            return EXIT_OK
        try:
            count = mem.export_jsonl(args.output, vectors=args.vectors)
        except OSError as exc:
            raise CommandError(_describe(exc), EXIT_INPUT) from None
        if args.json:
            _print_json({"count": count, "output": str(args.output)})
        else:
            _note(f"exported {count} facts to {args.output}")
    return EXIT_OK


def _stats(args: argparse.Namespace) -> int:
    with _open(args, create=False) as mem:
        stats = jsonable.stats_dict(mem)
    if args.json:
        _print_json(stats)
        return EXIT_OK
    policy = stats["policy"]
    print(f"path:        {stats['path']}")
    print(f"namespace:   {stats['namespace']}")
    print(f"facts:       {stats['count']}")
    print(f"negatives:   {stats['negatives']}")
    print(f"dim:         {stats['dim']}")
    print(f"encoder:     {json.dumps(stats['encoder'])}")
    print(f"fingerprint: {stats['fingerprint']}")
    print(
        f"policy:      min_similarity={policy['min_similarity']} min_gap={policy['min_gap']} "
        f"max_sentinel_weight={policy['max_sentinel_weight']} ({policy['source']})"
    )
    print(f"file size:   {stats['file_bytes']} bytes (+{stats['wal_bytes']} bytes WAL)")
    return EXIT_OK


def _forget(args: argparse.Namespace) -> int:
    with _open(args, create=False) as mem:
        gone = mem.forget_many(args.ids)
    if args.json:
        _print_json({"forgotten": [jsonable.fact_dict(f) for f in gone]})
    else:
        for fact in gone:
            print(f"{fact.id}\t{fact.text}")
    return EXIT_OK


def _mcp(args: argparse.Namespace) -> int:
    from .mcp_server import serve

    try:
        serve(args.path, namespace=args.namespace, log_level=args.log_level)
    except MissingExtraError as exc:
        raise CommandError(str(exc), EXIT_MISSING_EXTRA) from None
    except (HopfieldMemoryError, OSError) as exc:
        raise CommandError(_describe(exc), EXIT_STORE) from None
    return EXIT_OK


# ------------------------------------------------------------------------------------ parser


def _fact_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a fact id: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"fact ids are >= 0, got {value}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Associative memory for AI agents (Modern Hopfield Networks).",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    store_opts = argparse.ArgumentParser(add_help=False)
    store_opts.add_argument(
        "--path",
        metavar="STORE",
        default=os.environ.get(PATH_ENV) or None,
        help=f"the durable memory file (default: ${PATH_ENV})",
    )
    store_opts.add_argument(
        "--namespace", default="default", help="which memory in the file (default: default)"
    )
    json_opt = argparse.ArgumentParser(add_help=False)
    json_opt.add_argument("--json", action="store_true", help="machine-readable output on stdout")

    def command(
        name: str, help: str, *, store: bool = True, json: bool = True
    ) -> argparse.ArgumentParser:
        parents = ([store_opts] if store else []) + ([json_opt] if json else [])
        cmd = sub.add_parser(
            name,
            help=help,
            description=help,
            parents=parents,
            epilog=EXIT_CODES_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        cmd.set_defaults(parser=cmd)
        return cmd

    demo = command("demo", "store a built-in fact set and answer cues, offline", store=False)
    demo.set_defaults(run=_demo)

    store = command("store", "store facts (one per argument); prints their ids")
    store.add_argument("texts", nargs="+", metavar="TEXT", help="a fact to store")
    store.add_argument("--metadata", metavar="JSON", help="a JSON object stored with each fact")
    store.set_defaults(run=_store)

    query = command("query", "print the stored fact that best matches a cue")
    query.add_argument("cue", metavar="CUE")
    query.add_argument(
        "--or-none",
        action="store_true",
        help="abstain (print nothing, exit 1) when nothing stored fits the cue",
    )
    query.add_argument(
        "--explain",
        action="store_true",
        help="show the top candidates' weights and similarities and the gate's signals",
    )
    query.add_argument(
        "-k",
        "--top-k",
        type=_positive_int,
        default=None,
        help="candidates to show (default 1; 3 with --explain or --json)",
    )
    query.set_defaults(run=_query)

    imp = command("import", "store facts from a text file (one per line) or JSON Lines")
    imp.add_argument("file", metavar="FILE", help="the file to read, or - for standard input")
    imp.add_argument(
        "--format",
        choices=("auto", "text", "jsonl"),
        default="auto",
        help="auto (default): jsonl for *.jsonl files, else text",
    )
    imp.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show progress on stderr (default: when stderr is a terminal)",
    )
    imp.set_defaults(run=_import)

    exp = command("export", "write the facts as JSON Lines (the format import reads)")
    exp.add_argument(
        "output", metavar="FILE", nargs="?", default="-", help="output file, - for stdout (default)"
    )
    exp.add_argument("--vectors", action="store_true", help="include the vectors")
    exp.set_defaults(run=_export)

    stats = command("stats", "show counts, encoder, gate policy and file size")
    stats.set_defaults(run=_stats)

    forget = command("forget", "delete facts by id (all or nothing)")
    forget.add_argument("ids", nargs="+", type=_fact_id, metavar="ID")
    forget.set_defaults(run=_forget)

    mcp = command("mcp", "serve the memory to MCP clients over stdio", json=False)
    mcp.add_argument(
        "--log-level",
        default="WARNING",
        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
        help="server log level on stderr (default WARNING)",
    )
    mcp.set_defaults(run=_mcp)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hopfield-memory`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command != "demo" and not args.path:
        args.parser.error(f"--path STORE is required (or set {PATH_ENV})")
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(message)s")
    try:
        return int(args.run(args))
    except CommandError as exc:
        if exc.code == EXIT_USAGE:
            args.parser.error(str(exc))
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (| head): exit quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
