import * as assert from 'node:assert/strict';
import { WorkbenchError } from '../../src/core/errors';
import type { Peer } from '../../src/core/events';
import { compileTemplate, renderReplyTemplate, validateTemplate, type TemplateContext } from '../../src/core/server/template';

const peer: Peer = { address: '127.0.0.1', port: 50000, family: 'IPv4' };
const context: TemplateContext = { payload: Buffer.from('hi'), peer, seq: 7 };
const render = (template: string, ctx: TemplateContext = context) => renderReplyTemplate(template, ctx).toString('utf8');

function templateError(template: string): WorkbenchError {
  try {
    validateTemplate(template);
  } catch (err) {
    assert.ok(err instanceof WorkbenchError);
    assert.equal(err.code, 'BAD_TEMPLATE');
    return err;
  }
  assert.fail(`expected ${JSON.stringify(template)} to be rejected`);
}

describe('reply templates', () => {
  it('fills in every placeholder', () => {
    assert.equal(render('Data received: ${text}'), 'Data received: hi');
    assert.equal(render('${hex}|${size}|${peer}|${seq}'), '6869|2|127.0.0.1:50000|7');
    assert.equal(render('${peer}', { ...context, peer: { address: '::1', port: 9, family: 'IPv6' } }), '[::1]:9');
  });

  it('passes binary datagrams through ${text} unchanged', () => {
    const payload = Buffer.from([0xff, 0x00, 0xfe]);
    assert.deepEqual(
      renderReplyTemplate('<${text}>', { ...context, payload }),
      Buffer.concat([Buffer.from('<'), payload, Buffer.from('>')]),
    );
    assert.equal(render('${hex}', { ...context, payload }), 'ff00fe');
  });

  it('keeps text without placeholders, and a "$" not before "{"', () => {
    assert.equal(render(''), '');
    assert.equal(render('costs $5, $$ and {braces} $'), 'costs $5, $$ and {braces} $');
    assert.equal(render('é€😀 ${size}'), 'é€😀 2');
  });

  it('writes a literal "${" for "$${", and "$" then the value for "$$${"', () => {
    assert.equal(render('$${text}'), '${text}');
    assert.equal(render('$$${text}'), '$hi');
    assert.equal(render('$$$${text}'), '$${text}');
    assert.equal(render('$${'), '${');
  });

  it('names an unknown placeholder, where it is, and the valid ones', () => {
    const error = templateError('Got ${txt}!');
    assert.equal(error.offset, 4);
    assert.match(error.message, /"\$\{txt\}" at column 5 is not a placeholder/);
    for (const name of ['${text}', '${hex}', '${size}', '${peer}', '${seq}']) assert.ok(error.hint.includes(name), error.hint);
  });

  it('rejects placeholders that are empty, nested or not closed', () => {
    assert.equal(templateError('${}').offset, 0);
    assert.equal(templateError('a ${${text}}').offset, 2);
    assert.match(templateError('x ${text').message, /column 3 has no closing "\}"/);
    assert.equal(templateError('${ text }').offset, 0);
    assert.equal(templateError('${TEXT}').offset, 0);
    assert.equal(templateError('${constructor}').offset, 0);
  });

  it('renders the same from a compiled template for each datagram', () => {
    const reply = compileTemplate('#${seq} ${text}');
    assert.equal(reply(context).toString(), '#7 hi');
    assert.equal(reply({ ...context, seq: 8, payload: Buffer.from('yo') }).toString(), '#8 yo');
  });

  it('checks the template when it is compiled, not when a datagram comes', () => {
    assert.throws(() => compileTemplate('${nope}'), WorkbenchError);
  });
});
