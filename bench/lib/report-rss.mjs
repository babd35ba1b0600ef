// Preloaded into a child (`node --import ./report-rss.mjs ...`): on exit, prints the process's peak
// resident set size on stderr, where the parent reads it. maxRSS is in KiB.
process.on('exit', () => {
  process.stderr.write(`\n${JSON.stringify({ benchMaxRssKiB: process.resourceUsage().maxRSS })}\n`);
});
