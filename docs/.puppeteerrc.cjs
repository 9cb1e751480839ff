// Puppeteer (mermaid-cli's browser driver) must not download a browser build of its own:
// the diagrams are rendered with Debian's /usr/bin/chromium (puppeteer-config.json).
module.exports = { skipDownload: true };
