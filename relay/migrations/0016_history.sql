-- Reports read each conversation's events as one JSON array, kept beside the conversation
-- (`history`, written with its events by the conversation's `hooks` job) so a report over
-- 10,000 conversations joins prepared text instead of building it from 26,000 event rows.
-- The report builds it from `conversation_events` for a row without it.
ALTER TABLE conversations ADD COLUMN history TEXT;
UPDATE conversations SET history = (
  SELECT json_group_array(json_array(e.kind, e.at, e.channel, e.teammate, e.close_kind, e.satisfaction, e.effort))
  FROM (SELECT kind, at, channel, teammate, close_kind, satisfaction, effort FROM conversation_events WHERE conversation_id = conversations.id ORDER BY ord) AS e
) WHERE EXISTS (SELECT 1 FROM conversation_events WHERE conversation_id = conversations.id);
