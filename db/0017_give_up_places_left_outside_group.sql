-- 0014's triggers keep a place in an upcoming training with members of the training's group from then on. Writes from
-- before them could leave places behind: a profile's `groups` changed by PUT/PATCH, or a training moved to another
-- group. Give those places up once, the way the triggers would have (0004's counter follows every deleted row).
DELETE FROM training_enrollments e
USING trainings t
WHERE e.training_id = t.id AND t.date >= trainings_today()
  AND NOT EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = t.group_id AND gm.user_id = e.user_id);
