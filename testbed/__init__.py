"""partbench's testbed: the paper's system, live, measured against the cost model.

A real headless Chromium is the device and runs its blocks with onnxruntime-web (WebAssembly
backend, the page's main thread, slowed by DevTools CPU throttling); two Python processes
with onnxruntime are the edge and the cloud (the D2D collaborator is one such process).
Real intermediate tensors travel as WebSocket messages through a hub on 127.0.0.1 that
shapes every route hop by hop in user space (netem is not available): `testbed.links`.

The browser is driven with plain CDP over one WebSocket (`testbed.browser`): the
`websockets` package is already the transport, and the testbed needs five protocol commands
(open a page, throttle, close, hear errors); puppeteer-core would put a Node process and an
npm dependency between Python and the browser, and Playwright's client ships its own driver.

Modules: `export` (blocks -> ONNX), `hub` (routing, shaping, static files), `worker` (the
servers), `web/` (the page), `session` (start, load, time, request, stop), `calibrate`,
`linkcheck`, `layerfit` (Sec. 3.2 fits), `breakdown`, `summary`, `run` (the two commands).
"""
