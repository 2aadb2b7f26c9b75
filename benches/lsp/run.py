#!/usr/bin/env python3
"""Times `deja lsp` the way an editor uses it, side by side with `deja check`.

    python3 benches/lsp/run.py                 # WORK=/tmp/deja-lsp-bench by default
    python3 benches/lsp/run.py --repeat 21 --deja target/release/deja

The tree: the Python 3.11 documentation's reStructuredText sources (497 files), unpacked from
Debian's python3.11-doc (never installed) into $WORK/pydocs. The article: one ~50 KB file of it,
library/collections.rst (53 KB).

What is timed (wall clock, medians over --repeat runs, and CPU time, user + system: of the
`deja check` process from wait4, of the server from /proc/PID/stat summed over its edits; the
server runs with --debounce 0 so that the time is the check, not the pause). On a loaded
machine the wall clock waits for a core; the CPU time is the work:
  check      `deja check --no-baseline -q` on the tree (spawn to exit);
  open       didOpen of the article in the tree -> its diagnostics (cold: the server reads and
             analyses the whole tree first; wall clock to the diagnostics, CPU including the
             index built after them);
  edit/tree  didChange of the article in the tree -> its diagnostics (re-read of the article,
             cross-file copies looked for again in the files similar to it, baseline); the
             index of every paragraph's shingles is built after the open's diagnostics are
             published (counted with the open: the script waits a second before editing);
             the first edit's CPU is also shown apart from the later edits';
  edit/alone didChange of the article opened alone (a directory of its own) -> its diagnostics.
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, threading, time, queue

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def unpack(work):
    tree = os.path.join(work, "pydocs")
    if os.path.isdir(tree):
        return tree
    os.makedirs(work, exist_ok=True)
    subprocess.run(["apt-get", "download", "-qq", "python3.11-doc"], cwd=work, check=True)
    deb = [f for f in os.listdir(work) if f.startswith("python3.11-doc_") and f.endswith(".deb")][0]
    subprocess.run(["dpkg", "-x", deb, "pkg"], cwd=work, check=True)
    src = os.path.join(work, "pkg/usr/share/doc/python3.11/html/_sources")
    for d, _, files in os.walk(src):
        for f in files:
            if f.endswith(".rst.txt"):
                rel = os.path.relpath(os.path.join(d, f), src)[: -len(".txt")]
                os.makedirs(os.path.dirname(os.path.join(tree, rel)), exist_ok=True)
                shutil.copy(os.path.join(d, f), os.path.join(tree, rel))
    return tree


class Server:
    def __init__(self, deja, root):
        self.p = subprocess.Popen([deja, "lsp", "--debounce", "0"], cwd=root, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.q = queue.Queue()
        threading.Thread(target=self.read, daemon=True).start()
        self.id = 0
        self.request("initialize", {"processId": None, "rootUri": "file://" + root, "capabilities": {}})
        self.notify("initialized", {})

    def read(self):
        out = self.p.stdout
        while True:
            n = None
            while True:
                line = out.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                if line.lower().startswith(b"content-length:"):
                    n = int(line.split(b":")[1])
            self.q.put(json.loads(out.read(n)))

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params):
        self.id += 1
        self.send({"jsonrpc": "2.0", "id": self.id, "method": method, "params": params})
        while True:
            m = self.q.get(timeout=120)
            if m.get("id") == self.id and "method" not in m:
                return m.get("result")

    def diagnostics(self, uri):
        while True:
            m = self.q.get(timeout=120)
            if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri:
                return m["params"]["diagnostics"]

    def cpu(self):
        f = open("/proc/%d/stat" % self.p.pid).read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.request("shutdown", None)
        self.notify("exit", None)
        self.p.wait(timeout=30)


def edits(server, uri, text, repeat, cpu, first=None):
    times, counts = [], set()
    c0 = server.cpu()
    for i in range(repeat):
        if i == 1 and first is not None:
            first.append((server.cpu() - c0, 1))
        new = text + ("\nOne more sentence, number %d, added at the end.\n" % i if i % 2 == 0 else "")
        t = time.perf_counter()
        server.notify("textDocument/didChange",
                      {"textDocument": {"uri": uri, "version": i + 2}, "contentChanges": [{"text": new}]})
        d = server.diagnostics(uri)
        times.append(time.perf_counter() - t)
        counts.add(len(d))
    cpu.append((server.cpu() - c0, repeat))
    return times, counts


def cpu_ms(parts):
    total, n = sum(c for c, _ in parts), sum(k for _, k in parts)
    return "CPU %.1f ms each (mean of %d)" % (1000 * total / n, n)


def ms(xs):
    return "median %.1f ms (min %.1f, max %.1f, n=%d)" % (
        1000 * statistics.median(xs), 1000 * min(xs), 1000 * max(xs), len(xs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deja", default=os.path.join(ROOT, "target/release/deja"))
    ap.add_argument("--work", default=os.environ.get("WORK", "/tmp/deja-lsp-bench"))
    ap.add_argument("--article", default="library/collections.rst")
    ap.add_argument("--repeat", type=int, default=11)
    a = ap.parse_args()
    deja = os.path.abspath(a.deja)
    tree = unpack(a.work)
    files = sum(len([f for f in fs if f.endswith(".rst")]) for _, _, fs in os.walk(tree))
    path = os.path.join(tree, a.article)
    text = open(path, encoding="utf-8").read()
    uri = "file://" + path
    print("tree: %s (%d .rst files); article: %s (%.1f KB)" % (tree, files, a.article, len(text.encode()) / 1000))

    check, check_cpu, opens, open_cpu, tree_edits, tree_cpu, alone_cpu = [], [], [], [], [], [], []
    first_cpu = []
    for _ in range(a.repeat):
        t = time.perf_counter()
        p = subprocess.Popen([deja, "check", "--no-baseline", "-q", "--format", "json"], cwd=tree,
                             stdout=subprocess.DEVNULL)
        _, _, ru = os.wait4(p.pid, 0)
        check.append(time.perf_counter() - t)
        check_cpu.append((ru.ru_utime + ru.ru_stime, 1))
        s = Server(deja, tree)
        t = time.perf_counter()
        s.notify("textDocument/didOpen",
                 {"textDocument": {"uri": uri, "languageId": "restructuredtext", "version": 1, "text": text}})
        n = len(s.diagnostics(uri))
        opens.append(time.perf_counter() - t)
        # The server builds the index of paragraphs after publishing: let it finish, as it does
        # while the user reads the diagnostics, and count it with the open.
        time.sleep(1.0)
        open_cpu.append((s.cpu(), 1))
        e, _ = edits(s, uri, text, 3, tree_cpu, first_cpu)
        tree_edits.extend(e)
        s.stop()
    alone = tempfile.mkdtemp()
    shutil.copy(path, alone)
    apath = os.path.join(alone, os.path.basename(path))
    s = Server(deja, alone)
    s.notify("textDocument/didOpen",
             {"textDocument": {"uri": "file://" + apath, "languageId": "restructuredtext", "version": 1, "text": text}})
    s.diagnostics("file://" + apath)
    alone_edits, _ = edits(s, "file://" + apath, text, a.repeat * 3, alone_cpu)
    s.stop()
    shutil.rmtree(alone)
    print("check       deja check on the tree        ", ms(check), cpu_ms(check_cpu))
    print("open        didOpen in the tree (cold)    ", ms(opens), cpu_ms(open_cpu),
          "(from start) - %d diagnostics" % n)
    print("edit/tree   didChange in the tree         ", ms(tree_edits), cpu_ms(tree_cpu))
    later = [(c - f, k - 1) for (c, k), (f, _) in zip(tree_cpu, first_cpu)]
    print("            first edit after open:", cpu_ms(first_cpu), "; later edits:", cpu_ms(later))
    print("edit/alone  didChange of the article alone", ms(alone_edits), cpu_ms(alone_cpu))


if __name__ == "__main__":
    sys.exit(main())
