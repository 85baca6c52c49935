-- DropTable
DROP TABLE "Customer";

-- DropEnum
DROP TYPE "Role";
