-- dealdome_assert(ok, code, message) raises `message` with SQLSTATE `code` unless ok is
-- true, and returns true otherwise. A statement that checks its own outcome with it
-- (a data-modifying WITH whose final SELECT asserts the counts it expected) is all or
-- nothing without an explicit transaction: the error undoes every part of it. The
-- agent runtime records each turn this way, one round trip instead of three.
CREATE FUNCTION dealdome_assert(ok boolean, code text, message text) RETURNS boolean
  LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF ok IS NOT TRUE THEN
    RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message;
  END IF;
  RETURN true;
END
$$;
