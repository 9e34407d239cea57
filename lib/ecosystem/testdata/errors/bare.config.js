{
  "apps": [
    { "name": "api", "script": "api.js", "env": { "PORT": 3000 } }
  ]
}
