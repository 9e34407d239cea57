const env = {};
env.PORT = 3000;
if (!env.SECRET) throw new Error('SECRET is missing in settings.js');
module.exports = env;
