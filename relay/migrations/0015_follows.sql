-- "Start a new conversation" in the widget: the conversation the browser held before, proven
-- by its token when the new one was made. Erasing a conversation (the shopper's DELETE)
-- erases the ones it follows, so "forget me" reaches the browser's earlier conversations.
ALTER TABLE conversations ADD COLUMN follows TEXT;
