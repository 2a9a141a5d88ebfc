const http = require('http');
const port = process.env.PORT || 3000;
http.createServer((req, res) => {
  res.writeHead(req.url === '/health' ? 200 : 404);
  res.end(req.url === '/health' ? 'ok' : 'no');
}).listen(port);
