// The official client libraries of OpenAI and Ollama against a running flashllm server: the calls their
// users make (listing models, streamed and whole answers, JSON schemas, tool calls and their results, embeddings)
// must go through the clients' own parsing. Usage: FLASHLLM_URL=http://127.0.0.1:PORT MODEL=id node check.mjs
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';
import OpenAI from 'openai';

const url = process.env.FLASHLLM_URL ?? 'http://127.0.0.1:8080';
const model = process.env.MODEL;
assert.ok(model, 'set MODEL to the served model id');
const ollama = new Ollama({ host: url });
const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'none' });
const weather = [{ type: 'function', function: { name: 'get_weather', description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string', enum: ['Paris', 'Rome'] } }, required: ['city'] } } }];
const pet = { type: 'object', properties: { name: { type: 'string', maxLength: 10 }, legs: { type: 'integer', minimum: 0, maximum: 8 } },
  required: ['name', 'legs'] };
let checks = 0;
const ok = (what) => { checks++; console.log(`ok ${checks} - ${what}`); };

// Ollama
const list = await ollama.list();
assert.deepEqual(list.models.map(m => m.name), [`${model}:latest`]);
ok('ollama list names the model');
const gen = await ollama.generate({ model, prompt: 'Hello', options: { num_predict: 8, temperature: 0 } });
assert.ok(gen.done && ['stop', 'length'].includes(gen.done_reason) && gen.eval_count <= 8, JSON.stringify(gen));
ok('ollama generate');
let streamed = '', last;
for await (const part of await ollama.chat({ model: `${model}:latest`, messages: [{ role: 'user', content: 'Hi' }], stream: true,
  options: { num_predict: 8, temperature: 0 } })) {
  streamed += part.message.content;
  last = part;
}
assert.ok(last.done && last.eval_count >= 1 && streamed.length > 0, JSON.stringify(last));
ok('ollama chat streams');
const fmt = await ollama.chat({ model, messages: [{ role: 'user', content: 'A pet?' }], format: pet, options: { num_predict: 600, seed: 3 } });
const doc = JSON.parse(fmt.message.content);
assert.ok(typeof doc.name === 'string' && doc.name.length <= 10 && Number.isInteger(doc.legs) && doc.legs >= 0 && doc.legs <= 8,
  fmt.message.content);
ok('ollama chat follows a JSON schema');
const auto = await ollama.chat({ model, messages: [{ role: 'user', content: 'Weather in Rome?' }], tools: weather,
  options: { num_predict: 16, seed: 1 } });
assert.ok(auto.done, JSON.stringify(auto));
ok('ollama chat with tools');
const texts = ['The sky is blue.', 'Grass is green.'];
const emb = await ollama.embed({ model, input: texts });
assert.equal(emb.embeddings.length, 2);
const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
for (const v of emb.embeddings) assert.ok(v.length > 0 && Math.abs(norm(v) - 1) < 1e-4, `unit length: ${norm(v)}`);
ok('ollama embed');

// OpenAI
const models = await openai.models.list();
assert.deepEqual(models.data.map(m => m.id), [model]);
ok('openai models');
const called = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'Weather in Paris?' }],
  tools: weather, tool_choice: 'required', parallel_tool_calls: false, max_tokens: 600, temperature: 0 });
const choice = called.choices[0];
assert.equal(choice.finish_reason, 'tool_calls');
const call = choice.message.tool_calls[0];
assert.equal(call.function.name, 'get_weather');
assert.ok(['Paris', 'Rome'].includes(JSON.parse(call.function.arguments).city), call.function.arguments);
ok('openai required tool call');
const followUp = await openai.chat.completions.create({ model, max_tokens: 8, tools: weather, messages: [
  { role: 'user', content: 'Weather in Paris?' }, choice.message, { role: 'tool', tool_call_id: call.id, content: 'sunny' }] });
assert.ok(['stop', 'length', 'tool_calls'].includes(followUp.choices[0].finish_reason));
ok('openai tool result sent back');
const acc = {};
let finish;
for await (const chunk of await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'Weather?' }],
  tools: weather, tool_choice: { type: 'function', function: { name: 'get_weather' } }, parallel_tool_calls: false, max_tokens: 600, temperature: 0,
  stream: true })) {
  for (const tc of chunk.choices[0]?.delta?.tool_calls ?? []) {
    acc[tc.index] ??= { name: '', args: '' };
    acc[tc.index].name += tc.function?.name ?? '';
    acc[tc.index].args += tc.function?.arguments ?? '';
  }
  finish = chunk.choices[0]?.finish_reason ?? finish;
}
assert.equal(finish, 'tool_calls');
assert.equal(acc[0].name, 'get_weather');
assert.ok(['Paris', 'Rome'].includes(JSON.parse(acc[0].args).city), acc[0].args);
ok('openai streamed tool call');
const js = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'A pet?' }], max_tokens: 600,
  temperature: 0, response_format: { type: 'json_schema', json_schema: { name: 'pet', strict: true, schema: pet } } });
const pj = JSON.parse(js.choices[0].message.content);
assert.ok(Number.isInteger(pj.legs), js.choices[0].message.content);
ok('openai json_schema');
let text = '';
for await (const chunk of await openai.completions.create({ model, prompt: 'Once upon a time', max_tokens: 8, temperature: 0,
  stream: true })) {
  text += chunk.choices[0]?.text ?? '';
}
const whole = await openai.completions.create({ model, prompt: 'Once upon a time', max_tokens: 8, temperature: 0 });
assert.equal(text, whole.choices[0].text);
ok('openai completions, streamed and whole alike');
// The Responses API: whole, streamed (raw events and the client's stream helper), a function call and its result.
const resp = await openai.responses.create({ model, input: 'Once upon a time', max_output_tokens: 8, temperature: 0 });
assert.ok(['completed', 'incomplete'].includes(resp.status) && resp.output_text.length > 0, JSON.stringify(resp));
let deltas = '', finalEvent;
for await (const ev of await openai.responses.create({ model, input: 'Once upon a time', max_output_tokens: 8, temperature: 0,
  stream: true })) {
  if (ev.type === 'response.output_text.delta') deltas += ev.delta;
  if (ev.type === 'response.completed' || ev.type === 'response.incomplete') finalEvent = ev;
}
assert.equal(deltas, resp.output_text);
assert.equal(finalEvent.response.output_text ?? finalEvent.response.output[0].content[0].text, resp.output_text);
const helper = await openai.responses.stream({ model, input: 'Once upon a time', max_output_tokens: 8, temperature: 0 }).finalResponse();
assert.equal(helper.output_text, resp.output_text);
ok('openai responses, whole and streamed alike');
const fnTools = weather.map(t => ({ type: 'function', ...t.function }));
const fc = await openai.responses.create({ model, input: 'Weather in Paris?', tools: fnTools, tool_choice: 'required',
  parallel_tool_calls: false, max_output_tokens: 600, temperature: 0 });
const fcall = fc.output.find(o => o.type === 'function_call');
assert.ok(fcall && fcall.name === 'get_weather' && ['Paris', 'Rome'].includes(JSON.parse(fcall.arguments).city), JSON.stringify(fc.output));
const answered = await openai.responses.create({ model, tools: fnTools, max_output_tokens: 8, input: [
  { role: 'user', content: 'Weather in Paris?' }, fcall, { type: 'function_call_output', call_id: fcall.call_id, output: 'sunny' }] });
assert.ok(answered.output.length > 0);
let streamedCall;
for await (const ev of await openai.responses.create({ model, input: 'Weather?', tools: fnTools, tool_choice: 'required',
  parallel_tool_calls: false, max_output_tokens: 600, temperature: 0, stream: true })) {
  if (ev.type === 'response.output_item.done' && ev.item.type === 'function_call') streamedCall = ev.item;
}
assert.ok(streamedCall && ['Paris', 'Rome'].includes(JSON.parse(streamedCall.arguments).city), JSON.stringify(streamedCall));
ok('openai responses function calls, whole and streamed, and a result sent back');

// The OpenAI client asks for base64 by default and decodes it to floats itself.
const oe = await openai.embeddings.create({ model, input: texts });
assert.equal(oe.data.length, 2);
// Not bit for bit: the kernels' sums may run in another order once the JIT has compiled them.
const dot = (a, b) => a.reduce((s, x, k) => s + x * b[k], 0);
for (let i = 0; i < 2; i++) {
  assert.equal(oe.data[i].embedding.length, emb.embeddings[i].length);
  const cos = dot(oe.data[i].embedding, emb.embeddings[i]) / norm(oe.data[i].embedding) / norm(emb.embeddings[i]);
  assert.ok(cos > 0.9999, `input ${i}: cosine ${cos}`);
}
assert.ok(oe.usage.prompt_tokens > 0);
ok('openai embeddings (base64 on the wire) equal ollama embed');
// Scoring a prompt (what lm-eval's log-likelihood tasks send): its own log-probabilities come back first.
const scored = await openai.completions.create({ model, prompt: 'The quick brown fox', echo: true, logprobs: 1, max_tokens: 1,
  temperature: 0 });
const slp = scored.choices[0].logprobs;
assert.equal(slp.token_logprobs[0], null);
assert.ok(slp.token_logprobs.length >= 3 && slp.token_logprobs.slice(1).every(x => typeof x === 'number' && x <= 0), JSON.stringify(slp));
assert.equal(slp.tokens.length, slp.token_logprobs.length);
ok('openai completions echo the prompt with its log-probabilities');
console.log(`client-compat: ${checks} checks passed`);
