/* The field app's words, in Chinese and English: `WanggeField.words(lang)` gives `t(key,
   values)`, the word of the page's language (English, else the key, when it has none). */
'use strict';

window.WanggeField = window.WanggeField || {};
window.WanggeField.words = (lang) => {
  const WORDS = {
    zh: {
      title: '走访', pending: '待发送', logout: '退出', records: '今日记录',
      seen_all: '全部见到', partial: '部分见到', nobody_home: '无人在家',
      people_seen: '见到人数', fever_count: '发热人数', temperature: '体温 °C',
      waiting: '等待发送', sending: '发送中', sent: '已发送', rejected: '被拒绝：需核对',
      quarantine: '居家隔离', 'never visited': '从未走访', screening: '排查',
      visits_today: '今日已访', last_visit: '上次', none_due: '今天没有待访的户。',
      offline_list: '离线：显示上次保存的名单。', no_list: '离线，且没有保存的名单。',
      no_window: '现在不在测温时段内。', logout_pending: '还有 {n} 条记录未发送。仍要退出吗？记录会保留，下次用本账号登录后继续发送。',
      other_tab: '这条草稿已在另一个标签页提交。', building: '{n}号楼', unit: '{u}单元', room: '{r}室',
      signed_out: '登录已过期：记录已保存，重新登录后发送。', online: '在线', offline: '离线',
      household: '户',
      register: '登记返乡人员或发热', person: '人员', reason: '类别', origin: '从哪里返回',
      returnee: '返乡人员', fever: '发热', register_button: '登记居家隔离',
      register_returnee: '登记返乡人员', register_fever: '登记发热', origin_needed: '请填写从哪里返回。',
    },
    en: {
      title: 'Visits', pending: 'Unsent', logout: 'Sign out', records: "Today's records",
      seen_all: 'Seen all', partial: 'Partly seen', nobody_home: 'Nobody home',
      people_seen: 'People seen', fever_count: 'With fever', temperature: 'Temperature °C',
      waiting: 'waiting', sending: 'sending', sent: 'sent', rejected: 'rejected: needs checking',
      quarantine: 'home quarantine', 'never visited': 'never visited', screening: 'screening',
      visits_today: 'visits today', last_visit: 'last', none_due: 'No household is due today.',
      offline_list: 'Offline: showing the list saved last.', no_list: 'Offline, and no list saved.',
      no_window: 'Not in a temperature window now.', logout_pending: '{n} records are not sent yet. Sign out anyway? They stay on this phone and are sent when you sign in again.',
      other_tab: 'This draft was already recorded in another tab.', building: 'building {n}', unit: 'unit {u}', room: 'room {r}',
      signed_out: 'Signed out: the records are kept and sent after you sign in again.', online: 'online', offline: 'offline',
      household: 'household',
      register: 'Register a returnee or a fever case', person: 'Person', reason: 'Why', origin: 'Returned from',
      returnee: 'Returnee', fever: 'Fever', register_button: 'Register home quarantine',
      register_returnee: 'returnee registered', register_fever: 'fever case registered', origin_needed: 'Say where they returned from.',
    },
  };
  return (key, values = {}) => {
    const text = WORDS[lang][key] || WORDS.en[key] || key;
    return text.replace(/\{(\w+)\}/g, (_, k) => String(values[k]));
  };
};
