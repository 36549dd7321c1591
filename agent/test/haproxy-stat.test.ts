import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HaproxyUnexpectedReplyError, HaproxyUnknownServerError } from '@fleetroll/shared';
import { parseShowStat } from '../src/haproxy/index.js';
import { splitCsvLine } from '../src/haproxy/csv.js';

/*
 * `show stat` captured from HAProxy 2.6.12 (Debian 12) with servers in every state the
 * workflow meets: app_1 UP with two requests in flight, app_2 going down ("UP 1/2")
 * at weight 0, app_3 without checks, app_4 in maintenance, app_5 draining, app_6 DOWN;
 * plus FRONTEND/BACKEND rows, a second backend, and the trailing empty line HAProxy sends.
 */
const SHOW_STAT_2_6 = `# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,
fe,FRONTEND,,,2,2,9983,2,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,2,0,2,,,,0,0,0,0,0,0,,2,2,2,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,http,,2,2,2,0,0,0,0,,,0,0,,,,,,,0,,,,,,,,,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2,2,2,2,166,0,0,0,
app,app_1,0,0,2,2,,2,0,0,,0,,0,0,0,0,UP,100,1,0,1,1,2,0,,1,3,1,,2,,2,2,,2,L7OK,200,1,0,0,0,0,0,0,,,,0,0,0,,,,,1,,,0,0,0,0,,,,Layer7 check passed,,1,2,2,,,,127.0.0.1:29011,,http,,,,,,,,0,2,0,,,0,,0,0,0,0,0,0,0,2,3,100,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,
app,app_2,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP 1/2,0,1,0,1,0,2,0,,1,3,2,,0,,2,0,,0,L4CON,,0,0,0,0,0,0,0,,,,0,0,0,,,,,-1,Connection refused,,0,0,0,0,,,,Layer4 connection problem,,1,2,1,,,,127.0.0.1:29012,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,0,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,
app,app_3,0,0,0,0,,0,0,0,,0,,0,0,0,0,no check,0,1,0,,,2,,,1,3,3,,0,,2,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:29013,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,0,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,
app,app_4,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,100,1,0,0,1,1,1,,1,3,4,,0,,2,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:29014,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,100,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,
app,app_5,0,0,0,0,,0,0,0,,0,,0,0,0,0,DRAIN,100,1,0,0,0,1,0,,1,3,5,,0,,2,0,,0,L7OK,200,1,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,Layer7 check passed,,1,2,2,,,,127.0.0.1:29015,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,100,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,
app,app_6,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,100,1,0,1,1,2,2,,1,3,6,,0,,2,0,,0,L4CON,,0,0,0,0,0,0,0,,,,0,0,0,,,,,-1,Connection refused,,0,0,0,0,,,,Layer4 connection problem,,1,2,0,,,,127.0.0.1:29016,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,100,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,
app,BACKEND,0,0,2,2,999,2,0,0,0,0,,0,0,0,0,UP,100,1,0,,0,2,0,,1,3,0,,2,,1,2,,2,,,,0,0,0,0,0,0,,,,0,0,0,0,0,0,0,1,,,0,0,0,0,,,,,,,,,,,,,,http,roundrobin,,,,,,,0,2,0,0,0,,,0,0,0,0,0,,,,,100,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2,2,30,30,1540,646,0,0,
other,web.1,0,0,0,0,,0,0,0,,0,,0,0,0,0,no check,1,1,0,,,2,,,1,4,1,,0,,2,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:29021,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,
other,BACKEND,0,0,0,0,1,0,0,0,0,0,,0,0,0,0,UP,1,1,0,,0,2,0,,1,4,0,,0,,1,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,0,0,0,0,-1,,,0,0,0,0,,,,,,,,,,,,,,http,roundrobin,,,,,,,0,0,0,0,0,,,0,0,0,0,0,,,,,1,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,

`;

// A row whose last_chk HAProxy quoted, because the health check reply reason had a comma and quotes.
const QUOTED_ROW = String.raw`app,app_1,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,100,1,0,1,1,1,1,,1,3,1,,0,,2,0,,0,L7STS,503,1,0,0,0,0,0,0,,,,0,0,0,,,,,-1,"Nope, ""down""",,0,0,0,0,,,,Layer7 wrong status,,1,2,0,,,,127.0.0.1:29011,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,100,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,`;

const ctx = { command: 'show stat', socketPath: '/run/test.sock' };

describe('parseShowStat', () => {
  it('returns one row per server, without FRONTEND/BACKEND rows, in HAProxy order', () => {
    const stats = parseShowStat(SHOW_STAT_2_6, ctx);
    assert.deepEqual(stats, [
      {
        backend: 'app',
        server: 'app_1',
        scur: 2,
        status: 'UP',
        checkStatus: 'L7OK',
        weight: 100,
        downCount: 1,
      },
      {
        backend: 'app',
        server: 'app_2',
        scur: 0,
        status: 'UP 1/2',
        checkStatus: 'L4CON',
        weight: 0,
        downCount: 0,
      },
      {
        backend: 'app',
        server: 'app_3',
        scur: 0,
        status: 'no check',
        checkStatus: '',
        weight: 0,
        downCount: 0,
      },
      {
        backend: 'app',
        server: 'app_4',
        scur: 0,
        status: 'MAINT',
        checkStatus: '',
        weight: 100,
        downCount: 1,
      },
      {
        backend: 'app',
        server: 'app_5',
        scur: 0,
        status: 'DRAIN',
        checkStatus: 'L7OK',
        weight: 100,
        downCount: 0,
      },
      {
        backend: 'app',
        server: 'app_6',
        scur: 0,
        status: 'DOWN',
        checkStatus: 'L4CON',
        weight: 100,
        downCount: 1,
      },
      {
        backend: 'other',
        server: 'web.1',
        scur: 0,
        status: 'no check',
        checkStatus: '',
        weight: 1,
        downCount: 0,
      },
    ]);
  });

  it('finds columns by header name, not by position', () => {
    const reordered = '# weight,type,status,svname,check_status,scur,pxname,\n7,2,UP,s1,L7OK,3,be,\n\n';
    assert.deepEqual(parseShowStat(reordered, ctx), [
      { backend: 'be', server: 's1', scur: 3, status: 'UP', checkStatus: 'L7OK', weight: 7, downCount: 0 },
    ]);
  });

  it('tells servers from BACKEND rows by type, so a server may be named BACKEND', () => {
    const text =
      '# pxname,svname,scur,status,check_status,weight,type\nbe,BACKEND,0,UP,,5,2\nbe,BACKEND,0,UP,,5,1\n';
    assert.equal(parseShowStat(text, ctx).length, 1);
  });

  it('keeps columns aligned after a quoted field', () => {
    const header = SHOW_STAT_2_6.split('\n')[0]?.slice(2) ?? '';
    const names = splitCsvLine(header);
    const fields = splitCsvLine(QUOTED_ROW);
    assert.equal(fields.length, names.length);
    assert.equal(fields[names.indexOf('last_chk')], 'Nope, "down"');
    assert.equal(fields[names.indexOf('check_desc')], 'Layer7 wrong status');
    assert.equal(fields[names.indexOf('addr')], '127.0.0.1:29011');
    const [row] = parseShowStat(`# ${header}\n${QUOTED_ROW}\n`, ctx);
    assert.equal(row?.checkStatus, 'L7STS');
  });

  it('returns no rows for a header alone (no servers configured)', () => {
    assert.deepEqual(parseShowStat('# pxname,svname,scur,status,check_status,weight,type,\n\n', ctx), []);
  });

  it('rejects a reply without the "# " header', () => {
    assert.throws(
      () => parseShowStat('Unknown command, but maybe one of the following ones is a better match:\n', ctx),
      (err: unknown) => err instanceof HaproxyUnexpectedReplyError && /CSV header/.test(err.message),
    );
    assert.throws(() => parseShowStat('', ctx), HaproxyUnexpectedReplyError);
  });

  it('rejects a header that lacks a needed column, naming it', () => {
    assert.throws(
      () => parseShowStat('# pxname,svname,status,check_status,weight,type\nbe,s,UP,L7OK,1,2\n', ctx),
      (err: unknown) => err instanceof HaproxyUnexpectedReplyError && /"scur" column/.test(err.message),
    );
  });

  it('rejects a short row or a count that is not a number, quoting the row', () => {
    const header = '# pxname,svname,scur,status,check_status,weight,type\n';
    assert.throws(
      () => parseShowStat(`${header}be,s1,0,UP\n`, ctx),
      (err: unknown) => err instanceof HaproxyUnexpectedReplyError && /be,s1,0,UP/.test(err.message),
    );
    assert.throws(
      () => parseShowStat(`${header}be,s1,-1,UP,L7OK,1,2\n`, ctx),
      (err: unknown) =>
        err instanceof HaproxyUnexpectedReplyError && /"scur" is not a count/.test(err.message),
    );
    assert.throws(() => parseShowStat(`${header}be,s1,0,UP,L7OK,,2\n`, ctx), HaproxyUnexpectedReplyError);
  });

  it('maps "No such proxy." to an unknown backend', () => {
    assert.throws(
      () => parseShowStat('No such proxy.\n\n', { ...ctx, backend: 'nope' }),
      (err: unknown) => err instanceof HaproxyUnknownServerError && /"nope"/.test(err.message),
    );
  });
});

describe('splitCsvLine', () => {
  it('splits plain fields and keeps empty ones', () => {
    assert.deepEqual(splitCsvLine('a,,b,'), ['a', '', 'b', '']);
  });

  it('unquotes quoted fields and undoubles quotes', () => {
    assert.deepEqual(splitCsvLine('x,"a, b","say ""hi""",y'), ['x', 'a, b', 'say "hi"', 'y']);
  });
});
