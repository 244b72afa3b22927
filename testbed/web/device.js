// The testbed's device tier: runs its blocks with onnxruntime-web (WebAssembly backend) on the
// page's main thread (proxy off, one thread: DevTools CPU throttling does not reach Web Workers).
// Messages follow testbed/wire.py: uint32 header length, JSON header padded to 4 bytes, float32 payload.
"use strict";
(() => {
  const params = new URLSearchParams(location.search);
  const TIER = 0;
  ort.env.wasm.wasmPaths = "/ort/";
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = "error";
  const now = () => performance.timeOrigin + performance.now();
  const sets = {};
  const started = {};
  let input = null;
  let inputShape = null;

  const ws = new WebSocket(params.get("hub") + "/tier/device");
  ws.binaryType = "arraybuffer";

  function encode(header, data) {
    let head = new TextEncoder().encode(JSON.stringify(header));
    const pad = (4 - ((4 + head.length) % 4)) % 4;
    const bytes = data ? data.byteLength : 0;
    const buf = new ArrayBuffer(4 + head.length + pad + bytes);
    const u8 = new Uint8Array(buf);
    new DataView(buf).setUint32(0, head.length + pad, true);
    u8.set(head, 4);
    u8.fill(32, 4 + head.length, 4 + head.length + pad);
    if (data) u8.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 4 + head.length + pad);
    return buf;
  }

  function decode(buf) {
    if (typeof buf === "string") return [JSON.parse(buf), null];
    const size = new DataView(buf).getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, size)));
    const bytes = buf.byteLength - 4 - size;
    return [header, new Float32Array(buf, 4 + size, bytes / 4)];
  }

  const send = (header, data) => ws.send(encode(header, data));
  // A tensor goes in fragments of FRAGMENT_BYTES (testbed/wire.py): the hub paces each as it arrives.
  const FRAGMENT_BYTES = 64 * 1024;
  function sendFragments(header, data) {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const count = Math.max(1, Math.ceil(bytes.byteLength / FRAGMENT_BYTES));
    ws.send(encode({ ...header, frags: count }, bytes.subarray(0, FRAGMENT_BYTES)));
    for (let k = 1; k < count; k++) {
      ws.send(encode({ type: "frag" }, bytes.subarray(k * FRAGMENT_BYTES, (k + 1) * FRAGMENT_BYTES)));
    }
  }
  const fail = (err) => send({ type: "error", message: String((err && err.stack) || err).split("\n")[0] });

  async function run(session, data, shape) {
    const out = await session.run({ x: new ort.Tensor("float32", data, shape) });
    return out.y;
  }

  function timeLoop(fn, warmup, repeats, minLoopMs) {
    return (async () => {
      let t0 = performance.now();
      for (let k = 0; k < Math.max(1, warmup); k++) await fn();
      const onceMs = (performance.now() - t0) / Math.max(1, warmup);
      const loop = Math.max(1, Math.floor(minLoopMs / Math.max(onceMs, 1e-3)));
      const samples = [];
      for (let r = 0; r < repeats; r++) {
        t0 = performance.now();
        for (let k = 0; k < loop; k++) await fn();
        samples.push((performance.now() - t0) / loop);
      }
      const sorted = [...samples].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      const ms = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
      return { ms, samples, loop };
    })();
  }

  // Run this tier's consecutive blocks from `next`; send the output on, or finish the request.
  async function pipeline(req, next, data, shape, assign, trace) {
    const blocks = sets.blocks;
    let i = next;
    while (i < assign.length && assign[i] === TIER) {
      const t0 = now();
      const y = await run(blocks[i], data, shape);
      trace.push({ k: "block", i, tier: TIER, t0, t1: now() });
      data = y.data;
      shape = Array.from(y.dims);
      i++;
    }
    if (i < assign.length) {
      const header = { type: "tensor", req, next: i, assign, shape, src: TIER, dst: assign[i], trace, t_send: now() };
      sendFragments(header, data);
      return;
    }
    const e2e = performance.now() - started[req];
    delete started[req];
    send({ type: "done", req, e2e_ms: e2e, shape, trace }, data);
  }

  async function handle(header, payload, received) {
    switch (header.type) {
      case "load": {
        const opts = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
        const list = [];
        for (const url of header.urls) list.push(await ort.InferenceSession.create(url, opts));
        sets[header.set] = list;
        if (header.input_url) {
          input = new Float32Array(await (await fetch(header.input_url)).arrayBuffer());
          inputShape = header.input_shape;
        }
        send({ type: "loaded", set: header.set, count: list.length });
        break;
      }
      case "calibrate": {
        const session = sets[header.set][header.index];
        const data = new Float32Array(payload);
        const timed = await timeLoop(() => run(session, data, header.shape), header.warmup, header.repeats,
          header.min_loop_ms);
        send({ type: "calibrated", set: header.set, index: header.index, ...timed });
        break;
      }
      case "start": {
        started[header.req] = performance.now();
        await pipeline(header.req, 0, input, inputShape, header.assign, []);
        break;
      }
      case "tensor": {
        const trace = header.trace;
        trace.push({ k: "xfer", src: header.src, dst: TIER, next: header.next, bytes: payload.byteLength,
          t_send: header.t_send, t_recv: received });
        await pipeline(header.req, header.next, payload, header.shape, header.assign, trace);
        break;
      }
      default:
        throw new Error("unknown message type " + header.type);
    }
  }

  let chain = Promise.resolve();
  ws.onopen = () => {
    const versions = (ort.env && ort.env.versions) || {};
    send({ type: "hello", engine: "onnxruntime-web " + (versions.web || versions.common || "unknown"),
      backend: "wasm", user_agent: navigator.userAgent, cross_origin_isolated: self.crossOriginIsolated === true,
      hardware_concurrency: navigator.hardwareConcurrency });
  };
  ws.onmessage = (event) => {
    const received = now();
    const [header, payload] = decode(event.data);
    chain = chain.then(() => handle(header, payload, received)).catch(fail);
  };
})();
