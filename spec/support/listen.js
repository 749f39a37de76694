'use strict';
// What the spec servers (cred_server.js, fault_proxy.js, and for its exit
// dns_server.js) share: listen on 127.0.0.1, print "listening <port>" for
// the Lua side, never cut off a hanging request, and exit with the spec
// process (--parent-pid) or on SIGTERM.

// Exits when the spec process (--parent-pid) is gone, or on SIGTERM.
function exitWithParent(args) {
  if (args.parentPid) {
    const pid = Number(args.parentPid);
    setInterval(() => {
      try { process.kill(pid, 0); } catch (e) { if (e.code === 'ESRCH') process.exit(0); }
    }, 500).unref();
  }
  process.on('SIGTERM', () => process.exit(0));
}

module.exports = function listen(server, args) {
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  server.keepAliveTimeout = 60000;
  server.listen(Number(args.port), '127.0.0.1', () => {
    process.stdout.write(`listening ${server.address().port}\n`);
  });
  exitWithParent(args);
};
module.exports.exitWithParent = exitWithParent;
