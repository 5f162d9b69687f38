// Helpers shared by the Node drivers: the PORT argument, counted checks with
// a closing `N passed, M failed` line, and awaiting the next message.
'use strict';

function portArg(script) {
  const port = Number(process.argv[2]);
  if (!port) {
    console.error(`usage: node ${script} PORT`);
    process.exit(2);
  }
  return port;
}

const tally = { passed: 0, failed: 0 };

function check(what, ok, detail) {
  if (ok) tally.passed++;
  else {
    tally.failed++;
    console.log(`  FAIL ${what}${detail ? ': ' + detail : ''}`);
  }
}

// Runs the async `main`, counts an exception as a failed check, prints the
// summary line and exits non-zero unless something passed and nothing failed.
function runDriver(label, main) {
  main()
    .catch((e) => check('driver ran to completion', false, e.stack))
    .finally(() => {
      console.log(`${label}: ${tally.passed} passed, ${tally.failed} failed`);
      process.exit(tally.failed === 0 && tally.passed > 0 ? 0 : 1);
    });
}

// Resolves with the next message ({data, isBinary}); rejects on close or
// after `timeoutMs`.
function nextMessage(ws, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => cleanup(reject, new Error('timeout waiting for a message')), timeoutMs);
    function onMessage(data, isBinary) { cleanup(resolve, { data, isBinary }); }
    function onClose(code) { cleanup(reject, new Error(`closed with ${code} while waiting`)); }
    function cleanup(fn, v) {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      fn(v);
    }
    ws.on('message', onMessage);
    ws.on('close', onClose);
  });
}

module.exports = { portArg, check, runDriver, nextMessage };
