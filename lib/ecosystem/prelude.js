// The part of tpm's Node.js stand-in that is easier to write in JavaScript.
// It runs once per evaluation, before the config, and gets from Go a host
// object with the native pieces. Helpers the rewritten ES modules call are
// set as non-enumerable globals named __tpm_*.
(function (host) {
	'use strict';
	// Taken now, before the config can replace them.
	const { stringify } = JSON;
	const { keys, defineProperty } = Object;
	const { isArray } = Array;
	const { isFinite } = Number;
	const hasOwn = Object.prototype.hasOwnProperty;
	const hidden = (name, value) => defineProperty(globalThis, name, { value, writable: false, enumerable: false, configurable: false });

	// process.env turns what is stored into strings, as Node's does, so that
	// process.env.PORT = 3000 reads back as '3000'.
	const envProxy = new Proxy(host.env, {
		set(target, key, value) {
			target[key] = String(value);
			return true;
		},
		defineProperty(target, key, desc) {
			if ('value' in desc) desc.value = String(desc.value);
			return Reflect.defineProperty(target, key, desc);
		},
	});

	// A Buffer stand-in for fs.readFileSync without an encoding: the bytes,
	// and a toString that decodes them, which is what configs do with it
	// (JSON.parse(fs.readFileSync(f)), String(buf), buf.toString('utf8')).
	function buffer(ab) {
		const u = new Uint8Array(ab);
		defineProperty(u, 'toString', { value: (enc) => host.decode(ab, enc), enumerable: false });
		return u;
	}

	// A URL with the fields configs read; Go's net/url parses it.
	class URL {
		constructor(input, base) {
			const u = host.parseURL(String(input), base === undefined ? undefined : String(base));
			for (const k of keys(u)) this[k] = u[k];
		}
		toString() { return this.href; }
		toJSON() { return this.href; }
	}

	// plain copies a value into what JSON can hold, the way the config's
	// values are handed to Go: functions, symbols and undefined are dropped
	// (null in a list), a cycle is cut, a BigInt becomes its digits. Every
	// getter runs here, under the evaluation's time and memory bounds.
	function plain(v, stack) {
		switch (typeof v) {
			case 'string':
			case 'boolean':
				return v;
			case 'number':
				return isFinite(v) ? v : null;
			case 'bigint':
				return String(v);
			case 'object':
				if (v === null) return null;
				break;
			default:
				return undefined;
		}
		if (typeof v.toJSON === 'function') {
			v = v.toJSON();
			if (v === null || typeof v !== 'object') return plain(v, stack);
		}
		if (stack.includes(v)) return undefined;
		stack.push(v);
		let out;
		if (isArray(v)) {
			out = [];
			for (let i = 0; i < v.length; i++) {
				const p = plain(v[i], stack);
				out.push(p === undefined ? null : p);
			}
		} else {
			out = {};
			for (const k of keys(v)) {
				const p = plain(v[k], stack);
				if (p !== undefined) out[k] = p;
			}
		}
		stack.pop();
		return out;
	}

	// What a module exports, as PM2 would read it: an ES module's default
	// export, or its named exports.
	function exported(m) {
		if (m !== null && typeof m === 'object' && m.__esModule) {
			if (m.default !== undefined) return m.default;
			const o = {};
			for (const k of keys(m)) o[k] = m[k];
			return o;
		}
		return m;
	}

	hidden('__tpm_default', (m) => (m !== null && typeof m === 'object' && m.__esModule ? m.default : m));
	hidden('__tpm_ns', (m) => {
		if (m !== null && typeof m === 'object' && m.__esModule) return m;
		const ns = {};
		if (m !== null && (typeof m === 'object' || typeof m === 'function')) {
			for (const k of keys(m)) ns[k] = m[k];
		}
		ns.default = m;
		return ns;
	});
	hidden('__tpm_export', (exports, getters) => {
		defineProperty(exports, '__esModule', { value: true });
		for (const k of keys(getters)) {
			defineProperty(exports, k, { get: getters[k], enumerable: true, configurable: true });
		}
	});
	hidden('__tpm_star', (exports, m) => {
		const ns = globalThis.__tpm_ns(m);
		for (const k of keys(ns)) {
			if (k !== 'default' && !hasOwn.call(exports, k)) {
				defineProperty(exports, k, { get: () => ns[k], enumerable: true, configurable: true });
			}
		}
	});

	function format(args) {
		return args.map((a) => {
			if (typeof a === 'string') return a;
			if (a instanceof Error) return String(a);
			if (a !== null && typeof a === 'object') {
				try {
					return stringify(plain(a, []));
				} catch (e) {
					return String(a);
				}
			}
			return String(a);
		}).join(' ');
	}
	const print = (...args) => host.print(format(args));
	const console = {};
	for (const k of ['log', 'info', 'debug', 'warn', 'error', 'trace']) console[k] = print;
	console.dir = (v) => host.print(format([v]));
	console.table = console.dir;
	for (const k of ['time', 'timeEnd', 'timeLog', 'group', 'groupEnd', 'count', 'assert']) console[k] = () => {};
	hidden('console', console);

	// Buffer, atob and btoa, for the configs that base64-encode a secret.
	const Buffer = {
		from(v, enc) {
			if (typeof v === 'string') return buffer(host.encode(v, enc));
			if (v && typeof v.length === 'number') return buffer(new Uint8Array(Array.from(v)).buffer);
			throw new TypeError('Buffer.from takes a string or an array of bytes');
		},
		isBuffer: (v) => v instanceof Uint8Array && hasOwn.call(v, 'toString'),
		byteLength: (s, enc) => new Uint8Array(host.encode(String(s), enc)).length,
	};
	hidden('Buffer', Buffer);
	hidden('btoa', (s) => host.decode(host.encode(String(s), 'latin1'), 'base64'));
	hidden('atob', (s) => host.decode(host.encode(String(s), 'base64'), 'latin1'));
	hidden('URL', URL);

	// Everything Go reads of the config's values goes through these two, so
	// that the config's own code (getters, proxies, toString) only ever
	// runs inside a call Go makes to JavaScript, where throws are caught
	// and the bounds apply.
	function extract(module) {
		const v = exported(module.exports);
		if (v === undefined || v === null) return { kind: 'nothing' };
		if (typeof v === 'function') return { kind: 'function' };
		if (typeof v === 'object' && !isArray(v) && keys(v).length === 0) return { kind: 'nothing' };
		return { kind: 'value', json: stringify(plain(v, [])) };
	}
	function describe(v) {
		try {
			if (v instanceof Error) return String(v);
			const j = stringify(plain(v, []));
			return 'uncaught ' + (j === undefined ? String(v) : j);
		} catch (e) {
			return 'uncaught exception';
		}
	}

	return { env: envProxy, buffer, URL, extract, describe };
})
