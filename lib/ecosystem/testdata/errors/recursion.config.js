const deep = (n) => deep(n + 1) + 1;
module.exports = { apps: [{ name: 'x', script: 'x.js', instances: deep(0) }] };
